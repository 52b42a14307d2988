from django.core.management import BaseCommand

from liveblog.models import Entry


class Command(BaseCommand):
    help = (
        "Render every entry's Markdown and stored HTML again, and announce the change to "
        "open pages. Run it after changing templates/liveblog/_entry.html."
    )

    def handle(self, *args, **options):
        count = 0
        for entry in Entry.objects.select_related("story").iterator():
            entry.save(update_fields=["body_html", "html"])
            count += 1
        self.stdout.write(f"Rendered {count} entries.")
