"""The public pages: the front page and its archive, a story, an entry's permalink, the
embed, a person, search, and robots.txt. The live-updates endpoint is in updates.py, the
staff previews in previews.py."""

import hashlib

from csp.constants import SELF
from csp.decorators import csp_replace
from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import urlencode
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from . import search
from .changes import cached_version_and, remember_version
from .http import bad_request, canonical_origin, page_max_age, public_cache
from .models import Entry, Person, Story
from .pagination import (
    BadCursor,
    decode_cursor,
    encode_cursor,
    encode_position,
    page_of_public_entries,
)
from .prepared import Param, PreparedQuery
from .stream import (
    STREAM_FIELDS,
    BadReading,
    Reading,
    render_story,
    stream_context,
    with_day_headings,
)
from .structured_data import summary

# A rendered first page stays until a newer version's replaces it, or this many seconds.
PAGE_RENDER_TIMEOUT = 10 * 60
# Ended stories per page of the front page's archive.
ARCHIVE_PAGE_SIZE = 20
# Results per page of a search.
SEARCH_PAGE_SIZE = 20
# Live stories the front page lists: a newsroom runs a handful at once.
LIVE_STORIES_SHOWN = 50


@require_GET
@public_cache(page_max_age)
def front_page(request):
    """Live stories, then the archive: ended stories, the latest to end first, keyset
    paged (``?before=<cursor>`` of the last one shown)."""
    before = None
    if "before" in request.GET:
        try:
            before = decode_cursor(request.GET["before"])
        except BadCursor as e:
            return bad_request(f"Bad “before” parameter: {e}.")
    fields = ("headline", "slug", "status", "time_zone", "updated_at", "coverage_end")
    live = Story.objects.live().only(*fields)[:LIVE_STORIES_SHOWN] if before is None else []
    ended = list(Story.objects.archive(before=before).only(*fields)[: ARCHIVE_PAGE_SIZE + 1])
    older = None
    if len(ended) > ARCHIVE_PAGE_SIZE:
        last = ended[ARCHIVE_PAGE_SIZE - 1]
        older = "?" + urlencode({"before": encode_position(last.coverage_end, last.pk)})
    context = {
        "live_stories": live,
        "ended_stories": ended[:ARCHIVE_PAGE_SIZE],
        "older_url": older,
        "is_first_page": before is None,
    }
    return render(request, "liveblog/front.html", context)


@require_GET
@public_cache(page_max_age)
def story_page(request, slug):
    try:
        reading = Reading.from_query(request.GET)
    except BadReading as e:
        return bad_request(str(e))
    if reading.cursor is not None:
        story = _public_story(slug)
        story.release_due_entries()  # as every page does: its picture may be the entry's
        return render_story(request, story, before=reading.cursor, reading=reading)

    # The first page is what a spike of readers asks for: render it once per version,
    # and serve it with one round trip to the cache, for the version and the page.
    # The version is only cached for public stories, so a draft never comes from here.
    page_key = _page_key(slug, reading, canonical_origin(request))
    version, page = cached_version_and(slug, page_key)
    if version is not None and page is not None and page[0] == version:
        return HttpResponse(page[1])
    story = _public_story(slug)
    story.release_due_entries()
    response = render_story(request, story, before=None, reading=reading)
    # The page was read after the story row, so it shows at least this version: a
    # reader polling from it may see a change twice (harmless), never miss one.
    cache.set(page_key, (story.version, response.content), PAGE_RENDER_TIMEOUT)
    if version is None:  # else the version is cached already, and there is nothing to add
        remember_version(story)
    return response


# The story of a story page, read on every cold render of its first page: see prepared.py.
PUBLIC_STORY = PreparedQuery(
    lambda: Story.objects.public().filter(slug=Param("slug", models.SlugField())).order_by()[:1]
)


def _public_story(slug):
    found = PUBLIC_STORY.instances(slug=slug)
    if not found:
        raise Http404("No such story.")
    return found[0]


def _page_key(slug, reading, origin):
    # The page holds its absolute canonical URL, so the origin it names counts. Hashed:
    # a long slug and origin would pass the 250 characters caches take in a key.
    story_and_origin = hashlib.sha256(f"{slug} {origin}".encode()).hexdigest()
    return f"liveblog:page:{reading.cache_key}:{story_and_origin}"


@require_GET
@public_cache(page_max_age)
def entry_page(request, slug, pk):
    """An entry's permalink: the story's stream from that entry down, with it at the top."""
    entry = get_object_or_404(
        Entry.objects.public().select_related("story").defer("html"), story__slug=slug, pk=pk
    )
    entry.story.release_due_entries()
    # Shared, the permalink previews this entry, not the top of the story.
    share = {
        "title": entry.headline,
        "description": summary(entry.text),
        "url": canonical_origin(request) + entry.get_absolute_url(),
    }
    photo = entry.photo_sources()
    if photo:
        share["image"] = request.build_absolute_uri(photo["src"])
        share["image_alt"] = entry.photo_alt
    return render_story(
        request, entry.story, before=(entry.published_at, entry.pk), inclusive=True, share=share
    )


@require_GET
@public_cache(page_max_age)
@xframe_options_exempt
def embed(request, slug):
    """The story's key points and live stream without the site around them, for partner
    sites to frame: the one view that allows framing, and only by configured origins."""
    # csp_replace takes its policy when it wraps a view, and the origins are a setting,
    # read per request: so it wraps the render here, not the module's view.
    frameable = csp_replace({"frame-ancestors": [SELF, *settings.LIVEBLOG_EMBED_ORIGINS]})
    return frameable(_render_embed)(request, slug)


def _render_embed(request, slug):
    story = get_object_or_404(Story.objects.public(), slug=slug)
    story.release_due_entries()
    entries, older = page_of_public_entries(
        story.entries.only(*STREAM_FIELDS), size=settings.LIVEBLOG_PAGE_SIZE
    )
    context = stream_context(story, entries, older)
    context["canonical_url"] = request.build_absolute_uri(story.get_absolute_url())
    return render(request, "liveblog/embed.html", context)


@require_GET
@public_cache(page_max_age)
def person_page(request, person_slug):
    """The updates a person wrote or appears in, newest first, with date headings in each
    story's zone, keyset paged (``?before=<cursor>``)."""
    before = None
    if "before" in request.GET:
        try:
            before = decode_cursor(request.GET["before"])
        except BadCursor as e:
            return bad_request(f"Bad “before” parameter: {e}.")
    person = get_object_or_404(Person, slug=person_slug)
    entries, older = person_entries(person, before=before, size=settings.LIVEBLOG_PAGE_SIZE)
    context = {
        "person": person,
        "entries": with_day_headings(entries),
        "older_url": f"{person.get_absolute_url()}?before={older}" if older else None,
        "is_first_page": before is None,
    }
    return render(request, "liveblog/person.html", context)


def person_entries(person, *, before, size):
    """A page of the public entries ``person`` wrote or appears in, newest first, and
    the next page's cursor.

    One keyset page per relation, merged: each is a join the database plans from that
    person's own numbers, fast for a byline on 50,000 entries and for a name in three.
    One query with "wrote OR appears in" scanned every entry for the latter.
    """
    stream = Entry.objects.select_related("story").only(
        *STREAM_FIELDS, "story__headline", "story__slug", "story__time_zone"
    )
    merged, more = {}, False
    for relation in ("authors", "people"):
        page, older = page_of_public_entries(
            stream.filter(**{relation: person}), size=size, before=before
        )
        merged.update((entry.pk, entry) for entry in page)
        more = more or older is not None
    entries = sorted(merged.values(), key=lambda e: (e.published_at, e.pk), reverse=True)
    more = more or len(entries) > size
    entries = entries[:size]
    return entries, (encode_cursor(entries[-1]) if more and entries else None)


@require_GET
@public_cache(page_max_age)
def search_page(request):
    """Search every public story: ``?q=`` words, ``order=newest|best``, ``after=``."""
    return _search(request, story=None)


@require_GET
@public_cache(page_max_age)
def story_search(request, slug):
    """Search one public story; a draft story is the same 404 as a missing one."""
    story = get_object_or_404(Story.objects.public(), slug=slug)
    return _search(request, story=story)


def _search(request, story):
    raw = request.GET.get("q", "")
    order = request.GET.get("order", search.NEWEST)
    if order not in search.ORDERS:
        return bad_request(f"Bad “order” parameter: use {' or '.join(search.ORDERS)}.")
    after = None
    if "after" in request.GET:
        try:
            after = search.decode(order, request.GET["after"])
        except BadCursor as e:
            return bad_request(f"Bad “after” parameter: {e}.")
    context = {"story": story, "query": raw, "order": order, "orders": search.ORDER_LABELS}
    try:
        query = search.clean_query(raw)
    except search.BadQuery as e:
        # The page and its form, saying what to change: a 400 for a query refused, a
        # 200 for the empty form a reader opens first.
        context["message"] = str(e)
        return render(request, "liveblog/search.html", context, status=400 if raw.strip() else 200)
    fields = ("id", "story_id", "headline", "dateline", "body_html", "published_at")
    story_fields = ("story__headline", "story__slug", "story__time_zone")
    results = (
        Entry.objects.public()
        .select_related("story")
        .only(*fields, *story_fields)
        .search(query, story=story)
    )
    found = search.page(results, order=order, after=after, size=SEARCH_PAGE_SIZE, story=story)
    for entry in found.results:
        entry.marked_headline_html, entry.extract_html = entry.search_extract()
    next_url = None
    if found.next_cursor:
        next_url = "?" + urlencode({"q": query, "order": order, "after": found.next_cursor})
    context.update(
        results=found.results,
        next_url=next_url,
        first_url="?" + urlencode({"q": query, "order": order}),
        is_first_page=after is None,
    )
    return render(request, "liveblog/search.html", context)


@require_GET
@public_cache(60 * 60)
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /preview/",
        "Disallow: /api/",
        f"Sitemap: {request.build_absolute_uri('/sitemap.xml')}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")
