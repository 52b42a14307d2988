from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html

from .models import Entry, Story
from .structured_data import summary

FEED_SIZE = 50


class EntryItems:
    """How an entry reads in a feed: the page's own words, dateline first."""

    def item_title(self, entry):
        return entry.headline

    def item_description(self, entry):
        html = entry.body_with_dateline
        if entry.correction:
            html += format_html("<p><strong>Correction:</strong> {}</p>", entry.correction)
        return html

    def item_link(self, entry):
        return entry.permalink

    def item_pubdate(self, entry):
        return entry.published_at

    def item_updateddate(self, entry):
        return entry.revised_at or entry.published_at

    def item_author_name(self, entry):
        return ", ".join(author.name for author in entry.authors.all()) or None


class StoryFeed(EntryItems, Feed):
    """A story's latest entries, newest first (RSS 2.0)."""

    def get_object(self, request, slug):
        return get_object_or_404(Story.objects.public(), slug=slug)

    def title(self, story):
        return story.headline

    def link(self, story):
        return story.get_absolute_url()

    def description(self, story):
        return summary(story.lede) or story.headline

    def items(self, story):
        entries = story.entries.public().select_related("story").prefetch_related("authors")
        return entries.newest_first()[:FEED_SIZE]


class StoryAtomFeed(StoryFeed):
    feed_type = Atom1Feed

    def subtitle(self, story):
        return self.description(story)


class LatestFeed(EntryItems, Feed):
    """The latest entries of every live story (RSS 2.0)."""

    title = "Latest updates"
    link = "/"
    description = "The latest updates of our live stories."

    def items(self):
        entries = Entry.objects.public().filter(story__status=Story.Status.LIVE)
        return (
            entries.select_related("story").prefetch_related("authors").newest_first()[:FEED_SIZE]
        )


class LatestAtomFeed(LatestFeed):
    feed_type = Atom1Feed
    subtitle = LatestFeed.description
