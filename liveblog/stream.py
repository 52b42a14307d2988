"""A story's stream of entries as readers see it: on its page, an entry's permalink, the
embed, and (with_day_headings) the desk."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.db import models
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.shortcuts import render
from django.utils import timezone

from .dates import ap_date, local_day
from .http import canonical_origin
from .models import Entry
from .pagination import BadCursor, decode_cursor, page_of_public_entries, split_page
from .prepared import Param, PreparedQuery
from .structured_data import live_blog_posting, story_image, summary

# What the stream of a page needs: the stored HTML and what the date headings group by.
STREAM_FIELDS = ("id", "story_id", "published_at", "html")


class StreamEntry:
    """An entry as a story page shows it: its stored HTML, and the text of its stored
    structured data, which the page's structured data splices in (live_blog_posting).

    Read with ``values_list`` (``StreamEntry.rows``): a model instance per entry, and
    decoding each entry's JSON to encode it again, were most of what a first page cost
    besides its queries."""

    __slots__ = ("day_heading", "html", "pk", "posting", "published_at")
    anchor = Entry.anchor

    def __init__(self, pk, published_at, html, posting):
        self.pk, self.published_at, self.html, self.posting = pk, published_at, html, posting
        self.day_heading = None

    @staticmethod
    def rows(entries):
        """``entries`` (a QuerySet of entries) as the rows ``StreamEntry(*row)`` reads."""
        posting = Cast("structured_data", TextField())
        return entries.annotate(posting=posting).values_list(
            "pk", "published_at", "html", "posting"
        )


class BadReading(ValueError):
    pass


@dataclass(frozen=True)
class Reading:
    """How a reader chose to read a story: newest or oldest first, every update or the
    key ones only (those the key points link to, and the pinned entry).

    The URL says which (``?order=oldest``, ``?only=key``), so the caches in front keep
    each view apart and the server needs no cookie; the reader's browser remembers the
    choice (story.js). Pages go on with ``before`` (newest first) or ``after`` (oldest
    first), a keyset cursor.
    """

    oldest_first: bool = False
    key_only: bool = False
    cursor: tuple | None = None

    @classmethod
    def from_query(cls, query):
        """The reading a query string asks for; BadReading says what is wrong."""
        order = query.get("order", "newest")
        if order not in ("newest", "oldest"):
            raise BadReading("“order” is “newest” or “oldest”.")
        only = query.get("only", "all")
        if only not in ("all", "key"):
            raise BadReading("“only” is “key” or left out.")
        oldest_first = order == "oldest"
        wrong, right = ("before", "after") if oldest_first else ("after", "before")
        if wrong in query:
            raise BadReading(f"{order.title()} first pages go on with “{right}”, not “{wrong}”.")
        cursor = None
        if right in query:
            try:
                cursor = decode_cursor(query[right])
            except BadCursor as e:
                raise BadReading(f"Bad “{right}” parameter: {e}.") from e
        return cls(oldest_first=oldest_first, key_only=only == "key", cursor=cursor)

    @property
    def is_default(self):
        return not (self.oldest_first or self.key_only)

    @property
    def cache_key(self):
        return f"{'oldest' if self.oldest_first else 'newest'}:{'key' if self.key_only else 'all'}"

    def url(self, story_url, *, oldest_first=None, key_only=None, cursor=None):
        """The URL of this reading of the story at ``story_url`` (its first page, or
        from ``cursor``), with the order or the filter changed when given."""
        oldest_first = self.oldest_first if oldest_first is None else oldest_first
        key_only = self.key_only if key_only is None else key_only
        query = {}
        if oldest_first:
            query["order"] = "oldest"
        if key_only:
            query["only"] = "key"
        if cursor:
            query["after" if oldest_first else "before"] = cursor
        return f"{story_url}?{urlencode(query)}" if query else story_url

    def filter(self, entries, story):
        """``entries`` narrowed to what this reading shows."""
        if not self.key_only:
            return entries
        key = Q(pk__in=story.key_entry_ids)
        if story.pinned_entry_id:
            key |= Q(pk=story.pinned_entry_id)
        return entries.filter(key)


def with_day_headings(entries, tz=None):
    """Mark the first entry of each day (in the zone ``tz``) with its date heading; with
    no ``tz``, each entry's day in its own story's zone (a person's page spans stories)."""
    previous = None
    for entry in entries:
        zone = tz or entry.story.tzinfo
        day = local_day(entry.published_at, zone)
        entry.day_heading = ap_date(entry.published_at, zone) if day != previous else None
        previous = day
    return entries


def stream_context(story, entries, older):
    """What every template that shows the live stream reads: the story, its key points,
    a page of ``entries`` with their date headings, the link to the older page (``older``
    is its cursor) and how often to ask for updates."""
    return {
        "story": story,
        "key_points": story.key_points_shown,
        "entries": with_day_headings(entries, story.tzinfo),
        "older_url": f"{story.get_absolute_url()}?before={older}" if older else None,
        "poll_interval": settings.LIVEBLOG_POLL_INTERVAL,
    }


def reading_context(story_url, reading, more):
    """The story page's reading controls and the links to go on or back to the top,
    for the story at ``story_url``."""
    return {
        "reading": reading,
        "reading_urls": {
            "newest": reading.url(story_url, oldest_first=False),
            "oldest": reading.url(story_url, oldest_first=True),
            "all": reading.url(story_url, key_only=False),
            "key": reading.url(story_url, key_only=True),
        },
        "older_url": reading.url(story_url, cursor=more) if more else None,
        "more_label": "Load later updates" if reading.oldest_first else "Load older updates",
        "top_url": reading.url(story_url),
        "top_label": "Back to the first updates"
        if reading.oldest_first
        else "Show the latest updates",
    }


def _page(story, reading, inclusive, size):
    """The pinned entry (shown above the stream on a first page, not in it), the entries
    of the page ``reading`` asks for, and the cursor of the next page."""
    before = reading.cursor
    stream = StreamEntry.rows(story.entries.all())
    pinned = None
    if story.pinned_entry_id and before is None:
        row = stream.public().filter(pk=story.pinned_entry_id).first()
        pinned = StreamEntry(*row) if row else None
    if pinned is not None:
        stream = stream.exclude(pk=pinned.pk)
    entries, more = page_of_public_entries(
        reading.filter(stream, story),
        size=size,
        before=None if reading.oldest_first else before,
        after=before if reading.oldest_first else None,
        oldest_first=reading.oldest_first,
        inclusive=inclusive,
        row=lambda values: StreamEntry(*values),
    )
    return pinned, entries, more


def _story_entries(*, leave_out=False):
    """A story's entries, as prepared queries read them: ``Param`` "story" is its id,
    and with ``leave_out``, "pinned" the id of one left out."""
    entries = Entry.objects.filter(story=Param("story", models.BigIntegerField()))
    if leave_out:
        entries = entries.exclude(pk=Param("pinned", models.BigIntegerField()))
    return StreamEntry.rows(entries)


_NOW = Param("now", models.DateTimeField())
PINNED_ENTRY = PreparedQuery(
    lambda: _story_entries().filter(pk=Param("pinned", models.BigIntegerField())).public(_NOW)[:1]
)
FIRST_PAGE = PreparedQuery(
    lambda size, leave_out: (
        _story_entries(leave_out=leave_out).newest_first().public(_NOW)[: size + 1]
    )
)


def _first_page(story, size):
    """``_page`` for the first page of the default reading, newest first: the page a
    crowd reads after every change, read by the prepared queries above."""
    now = timezone.now()
    pinned = None
    if story.pinned_entry_id:
        rows = PINNED_ENTRY.rows(story=story.pk, pinned=story.pinned_entry_id, now=now)
        pinned = StreamEntry(*rows[0]) if rows else None
    if pinned is None:
        rows = FIRST_PAGE.rows(size, False, story=story.pk, now=now)
    else:
        rows = FIRST_PAGE.rows(size, True, story=story.pk, pinned=pinned.pk, now=now)
    entries, more = split_page([StreamEntry(*row) for row in rows], size)
    return pinned, entries, more


def render_story(request, story, *, before, inclusive=False, share=None, reading=None):
    """The story page from the cursor ``before`` down (from the top when None); with
    ``inclusive``, the entry at the cursor first, as its permalink shows it. ``reading``
    (a Reading, whose cursor then replaces ``before``) picks the order and filter."""
    reading = reading or Reading(cursor=before)
    before = reading.cursor
    if before is None and reading.is_default:
        pinned, entries, more = _first_page(story, settings.LIVEBLOG_PAGE_SIZE)
    else:
        pinned, entries, more = _page(story, reading, inclusive, settings.LIVEBLOG_PAGE_SIZE)
    origin = canonical_origin(request)

    def absolute(path):
        return origin + path

    # Reversed once: the page links to its own URL a dozen times.
    story_url = story.get_absolute_url()
    canonical_url = absolute(story_url)
    page_entries = [pinned, *entries] if pinned else entries
    image, image_alt = story_image(story, absolute)
    share = share or {
        "title": story.headline,
        "description": summary(story.lede),
        "url": canonical_url,
    }
    if "image" not in share:
        share = {**share, "image": image, "image_alt": image_alt}
    context = {
        **stream_context(story, entries, None),
        **reading_context(story_url, reading, more),
        "story_url": story_url,
        "pinned": pinned,
        "is_first_page": before is None,
        # An older page is read by someone who has read the top: skip the lede and key points.
        "hide_summary": before is not None and not inclusive,
        "canonical_url": canonical_url,
        "share": share,
        "structured_data": live_blog_posting(
            story,
            page_entries,
            page_url=canonical_url,
            origin=origin,
            image=image,
        ),
        "publisher": settings.LIVEBLOG_PUBLISHER,
    }
    return render(request, "liveblog/story.html", context)
