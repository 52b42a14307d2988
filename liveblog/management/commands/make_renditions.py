from django.core.management import BaseCommand

from liveblog import renditions


class Command(BaseCommand):
    help = "Make the renditions of every photo that has none yet (the app's workers do this too)."

    def handle(self, *args, **options):
        done = renditions.make_due(recent_only=False)
        self.stdout.write(f"Made renditions for {done} photo(s).")
