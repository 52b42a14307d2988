from django.core.management import BaseCommand

from liveblog import changes
from liveblog.models import Story, StoryChange
from liveblog.text import render_markdown


class Command(BaseCommand):
    help = (
        "Render every entry's Markdown, stored HTML, structured data and search index "
        "again, and tell open pages to reload: one change per story. Run it after changing "
        "templates/liveblog/_entry.html."
    )

    def handle(self, *args, **options):
        count = 0
        for story in Story.objects.iterator():
            with changes.batch():
                for entry in story.entries.prefetch_related("authors").iterator(chunk_size=500):
                    entry.story = story
                    entry.body_html = render_markdown(entry.body)
                    type(entry).objects.filter(pk=entry.pk).update(body_html=entry.body_html)
                    entry.refresh_html()
                    count += 1
                changes.announce(story.pk, StoryChange.Kind.RELOAD)
        self.stdout.write(f"Rendered {count} entries.")
