"""A story's stream of entries as readers see it: on its page, an entry's permalink, the
embed, and (with_day_headings) the desk."""

from django.conf import settings
from django.shortcuts import render

from .dates import ap_date, local_day
from .http import canonical_origin
from .models import KeyPoint
from .pagination import page_of_public_entries
from .structured_data import live_blog_posting, story_image, summary

# What the stream of a page needs: the stored HTML and what the date headings group by.
STREAM_FIELDS = ("id", "story_id", "published_at", "html")
# ... and what its structured data says of each entry, stored with it.
STRUCTURED_DATA_FIELDS = ("structured_data",)


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
        "key_points": KeyPoint.objects.public().filter(story=story),
        "entries": with_day_headings(entries, story.tzinfo),
        "older_url": f"{story.get_absolute_url()}?before={older}" if older else None,
        "poll_interval": settings.LIVEBLOG_POLL_INTERVAL,
    }


def render_story(request, story, *, before, inclusive=False, share=None):
    """The story page from the cursor ``before`` down (from the top when None); with
    ``inclusive``, the entry at the cursor first, as its permalink shows it."""
    # A pinned entry stands above the stream instead of in it.
    stream = story.entries.only(*STREAM_FIELDS, *STRUCTURED_DATA_FIELDS)
    pinned = None
    if story.pinned_entry_id and before is None:
        pinned = stream.public().filter(pk=story.pinned_entry_id).first()
    if pinned is not None:
        stream = stream.exclude(pk=pinned.pk)
    entries, older = page_of_public_entries(
        stream,
        size=settings.LIVEBLOG_PAGE_SIZE,
        before=before,
        inclusive=inclusive,
    )
    origin = canonical_origin(request)

    def absolute(path):
        return origin + path

    canonical_url = absolute(story.get_absolute_url())
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
        **stream_context(story, entries, older),
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
            absolute=absolute,
            image=image,
        ),
        "publisher": settings.LIVEBLOG_PUBLISHER,
    }
    return render(request, "liveblog/story.html", context)
