import functools
import re

from csp.constants import SELF
from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .changes import cached_version, remember_version
from .models import Entry, KeyPoint, Person, Story, StoryChange
from .pagination import BadCursor, decode_cursor, page_of_public_entries
from .structured_data import live_blog_posting, summary
from .templatetags.liveblog import ap_date

# What the stream of a page needs: the stored HTML and what the date headings group by.
STREAM_FIELDS = ("id", "story_id", "published_at", "html")
# ... and what its structured data says of each entry.
STRUCTURED_DATA_FIELDS = ("headline", "dateline", "body_html", "revised_at")
VERSION = re.compile(r"[0-9]{1,18}")
# A rendered first page stays until its version is superseded, or this many seconds.
PAGE_RENDER_TIMEOUT = 10 * 60


@functools.cache
def cache_control(max_age):
    return (
        f"public, max-age={min(max_age, 2)}, s-maxage={max_age}, "
        f"stale-while-revalidate={max_age * 3}, stale-if-error=600"
    )


def cacheable(response, max_age):
    """Let browsers and the caches in front keep a public answer briefly, and serve it
    stale while they fetch a new one or while the origin is failing."""
    response["Cache-Control"] = cache_control(max_age)
    return response


def publicly_cached(view):
    """Give a public view's answers the same cache headers as the story page."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        return cacheable(view(request, *args, **kwargs), settings.LIVEBLOG_PAGE_MAX_AGE)

    return wrapped


def bad_request(reason):
    return HttpResponseBadRequest(reason, content_type="text/plain; charset=utf-8")


@require_GET
def front_page(request):
    stories = Story.objects.for_front_page()[:50]
    return render(request, "liveblog/front.html", {"stories": stories})


@require_GET
def story_page(request, slug):
    before = None
    if "before" in request.GET:
        try:
            before = decode_cursor(request.GET["before"])
        except BadCursor as e:
            return bad_request(f"Bad “before” parameter: {e}.")
        story = get_object_or_404(Story.objects.public(), slug=slug)
        return _render_story(request, story, before=before)

    # The first page is what a spike of readers asks for: render it once per version.
    # The version is only cached for public stories, so a draft never comes from here.
    version = cached_version(slug)
    if version is not None:
        body = cache.get(_page_key(request, slug, version))
        if body is not None:
            return cacheable(HttpResponse(body), settings.LIVEBLOG_PAGE_MAX_AGE)
    story = get_object_or_404(Story.objects.public(), slug=slug)
    story.release_due_entries()
    response = _render_story(request, story, before=None)
    # The page was read after the story row, so it shows at least this version: a
    # reader polling from it may see a change twice (harmless), never miss one.
    cache.set(_page_key(request, slug, story.version), response.content, PAGE_RENDER_TIMEOUT)
    remember_version(story)
    return response


def _page_key(request, slug, version):
    # The page holds its absolute canonical URL, so the address it was asked at counts.
    return f"liveblog:page:{slug}:{version}:{request.build_absolute_uri('/')}"


@require_GET
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
        "url": request.build_absolute_uri(entry.get_absolute_url().partition("#")[0]),
    }
    photo = entry.photo_sources()
    if photo:
        share["image"] = request.build_absolute_uri(photo["src"])
        share["image_alt"] = entry.photo_alt
    return _render_story(
        request, entry.story, before=(entry.published_at, entry.pk), inclusive=True, share=share
    )


@require_GET
def embed(request, slug):
    """The story's key points and live stream without the site around them, for partner
    sites to frame: the one view that allows framing, and only by configured origins."""
    story = get_object_or_404(Story.objects.public(), slug=slug)
    story.release_due_entries()
    entries, older = page_of_public_entries(
        story.entries.only(*STREAM_FIELDS), size=settings.LIVEBLOG_PAGE_SIZE
    )
    context = {
        "story": story,
        "key_points": KeyPoint.objects.public().filter(story=story),
        "entries": with_day_headings(entries, story.tzinfo),
        "older_url": f"{story.get_absolute_url()}?before={older}" if older else None,
        "poll_interval": settings.LIVEBLOG_POLL_INTERVAL,
    }
    response = cacheable(
        render(request, "liveblog/embed.html", context), settings.LIVEBLOG_PAGE_MAX_AGE
    )
    # django-csp writes the policy; this view alone replaces frame-ancestors 'none'.
    response._csp_replace = {"frame-ancestors": [SELF, *settings.LIVEBLOG_EMBED_ORIGINS]}
    response.xframe_options_exempt = True
    return response


@never_cache
def healthz(request):
    """Whether the database and the cache answer: 200 when both do, else 503."""
    checks = {"database": _database_answers(), "cache": _cache_answers()}
    body = {name: "ok" if ok else "failing" for name, ok in checks.items()}
    return JsonResponse(body, status=200 if all(checks.values()) else 503)


def _database_answers():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


def _cache_answers():
    # Ask Redis itself: the cache backend turns its failures into misses.
    try:
        redis = getattr(cache, "_cache", None)
        if redis is not None and hasattr(redis, "get_client"):
            return bool(redis.get_client().ping())
        cache.set("healthz", "ok", 10)
        return cache.get("healthz") == "ok"
    except Exception:
        return False


@require_GET
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /preview/",
        "Disallow: /api/",
        f"Sitemap: {request.build_absolute_uri('/sitemap.xml')}",
    ]
    return cacheable(HttpResponse("\n".join(lines) + "\n", content_type="text/plain"), 3600)


@never_cache
@login_required
def entry_preview(request, slug, pk):
    """An entry as readers will see it, whatever its state, for editors and its authors."""
    entry = get_object_or_404(Entry.objects.select_related("story"), story__slug=slug, pk=pk)
    if not Entry.objects.editable_by(request.user).filter(pk=entry.pk).exists():
        raise Http404
    context = {"story": entry.story, "entries": [entry], "entry_html": entry.render_html()}
    return _preview_response(render(request, "liveblog/preview.html", context))


@never_cache
@permission_required("liveblog.change_story", raise_exception=True)
def story_preview(request, slug):
    """A story with every entry, drafts and scheduled ones marked, for editors."""
    story = get_object_or_404(Story, slug=slug)
    entries = story.entries.newest_first()[: settings.LIVEBLOG_PAGE_SIZE]
    context = {
        "story": story,
        "entries": entries,
        "key_points": story.key_points.filter(pinned=True),
    }
    return _preview_response(render(request, "liveblog/preview.html", context))


def _preview_response(response):
    response["X-Robots-Tag"] = "noindex"
    return response


def with_day_headings(entries, tz):
    """Mark the first entry of each day (in the story's zone) with its date heading."""
    previous = None
    for entry in entries:
        day = entry.published_at.astimezone(tz).date()
        entry.day_heading = ap_date(entry.published_at, tz) if day != previous else None
        previous = day
    return entries


def _render_story(request, story, *, before, inclusive=False, share=None):
    # A pinned entry stands above the stream instead of in it.
    stream = story.entries.only(*STREAM_FIELDS, *STRUCTURED_DATA_FIELDS)
    stream = stream.prefetch_related("authors")
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
    story_url = story.get_absolute_url()
    canonical_url = request.build_absolute_uri(story_url)
    page_entries = [pinned, *entries] if pinned else entries
    context = {
        "story": story,
        "key_points": KeyPoint.objects.public().filter(story=story),
        "entries": with_day_headings(entries, story.tzinfo),
        "pinned": pinned,
        "older_url": f"{story_url}?before={older}" if older else None,
        "is_first_page": before is None,
        # An older page is read by someone who has read the top: skip the lede and key points.
        "hide_summary": before is not None and not inclusive,
        "canonical_url": canonical_url,
        "share": share
        or {"title": story.headline, "description": summary(story.lede), "url": canonical_url},
        "structured_data": live_blog_posting(
            story, page_entries, page_url=canonical_url, absolute=request.build_absolute_uri
        ),
        "poll_interval": settings.LIVEBLOG_POLL_INTERVAL,
        "publisher": settings.LIVEBLOG_PUBLISHER,
    }
    return cacheable(
        render(request, "liveblog/story.html", context), settings.LIVEBLOG_PAGE_MAX_AGE
    )


@require_GET
def story_updates(request, slug, since):
    """What changed in a story since version ``since``, for readers with the page open.

    The version is part of the path, not the query string, because some CDNs leave
    query strings out of their cache keys.

    URLs are keyed by versions the server gave out, so every reader at a version asks
    the same URL and caches in front answer almost all of them. A reader already at
    the current version gets a short "no change" answer, and a cache or browser
    revalidating what it holds gets a 304: both from the cache alone when it knows
    the version. (A 304 only ever answers a conditional request: Varnish rightly
    refuses one that answers a plain GET.)
    """
    if not VERSION.fullmatch(since):
        return bad_request("“since” must be a story version: a whole number from the story page.")
    since = int(since)
    current = cached_version(slug)
    story = None
    if current is None:
        story = _story_for_updates(slug)
        current = story.version
    if request.META.get("HTTP_IF_NONE_MATCH") == _etag(since, current):
        return _not_modified(since, current)
    if since == current:
        return _updates_response(_payload(current), since)
    return _changes_since(story or _story_for_updates(slug), since)


def _story_for_updates(slug):
    story = get_object_or_404(Story.objects.public(), slug=slug)
    story.release_due_entries()
    remember_version(story)
    return story


def _payload(version, **changes):
    return {
        "version": version,
        "poll_interval": settings.LIVEBLOG_POLL_INTERVAL,
        "reload": False,
        "entries": [],
        "removed": [],
        "key_points_html": None,
        "header_html": None,
        **changes,
    }


def _changes_since(story, since):
    payload = _payload(story.version, status=story.status)
    if since > story.version or story.version - since > settings.LIVEBLOG_MAX_CHANGES:
        # A version from the future (a restored database) or too far behind: start over.
        payload["reload"] = True
        return _updates_response(payload, since)
    entry_ids, kinds = story.changes_since(since, until=story.version)
    if StoryChange.Kind.RELOAD in kinds:
        payload["reload"] = True
        return _updates_response(payload, since)
    entries = story.entries.public().filter(pk__in=entry_ids).only(*STREAM_FIELDS).newest_first()
    payload["entries"] = [{"id": e.pk, "cursor": e.cursor, "html": e.html} for e in entries]
    payload["removed"] = sorted(entry_ids - {e["id"] for e in payload["entries"]})
    context = {"story": story}
    story_changed = StoryChange.Kind.STORY in kinds
    # The heading is the story's; a removed entry may have been what a key point linked to.
    if StoryChange.Kind.KEY_POINTS in kinds or story_changed or payload["removed"]:
        context["key_points"] = KeyPoint.objects.public().filter(story=story)
        payload["key_points_html"] = render_to_string("liveblog/_key_points.html", context)
    if story_changed:
        payload["header_html"] = render_to_string("liveblog/_story_header.html", context)
    return _updates_response(payload, since)


def _etag(since, version):
    return f'"{since}-{version}"'


def _not_modified(since, version):
    response = HttpResponse(status=304)
    response["ETag"] = _etag(since, version)
    return cacheable(response, settings.LIVEBLOG_UPDATES_MAX_AGE)


def _updates_response(payload, since):
    response = JsonResponse(payload)
    response["ETag"] = _etag(since, payload["version"])
    return cacheable(response, settings.LIVEBLOG_UPDATES_MAX_AGE)


@require_GET
def person_page(request, slug):
    person = get_object_or_404(Person, slug=slug)
    wrote_or_named = Q(
        pk__in=Entry.authors.through.objects.filter(person=person).values("entry")
    ) | Q(pk__in=Entry.people.through.objects.filter(person=person).values("entry"))
    entries = (
        Entry.objects.public()
        .filter(wrote_or_named)
        .select_related("story")
        .only(*STREAM_FIELDS, "story__headline", "story__slug")
        .newest_first()[:50]
    )
    return render(request, "liveblog/person.html", {"person": person, "entries": entries})
