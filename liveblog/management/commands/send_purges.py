from django.core.management import BaseCommand

from liveblog import purge


class Command(BaseCommand):
    help = (
        "Send queued purges to LIVEBLOG_PURGE_URL as they fall due, until stopped. Run it "
        "as a service when app processes do not send them (LIVEBLOG_PURGE_IN_PROCESS=false)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Send what is due, then exit.")

    def handle(self, *args, once, **options):
        if once:
            purge.send_due()
        else:
            purge.Worker(idle=purge.POLL_SECONDS).run()
