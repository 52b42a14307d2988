"""Forget readers' e-mail addresses kept longer than LIVEBLOG_ASK_RETENTION_DAYS.

Run it daily (cron, a systemd timer): ``python manage.py expire_submission_emails``.
The question itself stays for the desk's record; deleting one on a reader's request is
done in the admin.
"""

from django.core.management import BaseCommand

from liveblog.models import Submission


class Command(BaseCommand):
    help = "Blank the e-mail addresses of readers' questions past the retention period."

    def handle(self, *args, **options):
        count = Submission.objects.past_retention().update(email="")
        self.stdout.write(f"Forgot {count} e-mail address{'es' if count != 1 else ''}.")
