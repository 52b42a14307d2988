from django.core.management import BaseCommand

from liveblog import changes, search
from liveblog.models import Story, StoryChange
from liveblog.text import render_markdown


class Command(BaseCommand):
    help = (
        "Render every entry's Markdown and stored HTML again (and its search index), and "
        "tell open pages to reload: one change per story. Run it after changing "
        "templates/liveblog/_entry.html."
    )

    def handle(self, *args, **options):
        count = 0
        for story in Story.objects.iterator():
            with changes.batch():
                for entry in story.entries.iterator():
                    entry.story = story
                    entry.body_html = render_markdown(entry.body)
                    entry.html = entry.render_html()
                    type(entry).objects.filter(pk=entry.pk).update(
                        body_html=entry.body_html, html=entry.html, **search.index_fields(story)
                    )
                    count += 1
                changes.announce(story.pk, StoryChange.Kind.RELOAD)
        self.stdout.write(f"Rendered {count} entries.")
