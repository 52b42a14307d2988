"""The public read-only JSON API: stories, one story with its key points, its entries.

Every answer goes through the same public QuerySet methods as the pages, is cacheable
like them, and may be read from any origin (CORS).
"""

from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from .http import public_cache, updates_max_age
from .models import Story
from .pagination import BadCursor, decode_cursor, page_of_public_entries

MAX_LIMIT = 100


def api_response(payload, status=200):
    response = JsonResponse(payload, status=status, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"
    return response


def api_error(status, message):
    return api_response({"error": message}, status=status)


def story_summary(request, story):
    return {
        "slug": story.slug,
        "headline": story.headline,
        "status": story.status,
        "updated_at": story.updated_at,
        "url": request.build_absolute_uri(story.get_absolute_url()),
        "api_url": request.build_absolute_uri(reverse("liveblog:api_story", args=[story.slug])),
    }


@require_GET
@public_cache(updates_max_age)
def stories(request):
    """Public stories, live ones first."""
    payload = {"stories": [story_summary(request, s) for s in Story.objects.for_front_page()[:50]]}
    return api_response(payload)


@require_GET
@public_cache(updates_max_age)
def story(request, slug):
    """One story with its pinned key points."""
    found = Story.objects.public().filter(slug=slug).first()
    if found is None:
        return api_error(404, "No such story.")
    found.release_due_entries()  # its version and key points, as the pages have them
    payload = {
        **story_summary(request, found),
        "lede": found.lede,
        "time_zone": found.time_zone,
        "coverage_start": found.coverage_start,
        "coverage_end": found.coverage_end,
        "version": found.version,
        "key_points_heading": found.key_points_heading,
        "key_points": found.key_points_shown,
        "entries_url": request.build_absolute_uri(reverse("liveblog:api_entries", args=[slug])),
    }
    return api_response(payload)


@require_GET
@public_cache(updates_max_age)
def entries(request, slug):
    """A story's entries, newest first, a page at a time: ?limit=1..100&before=<cursor>."""
    limit = request.GET.get("limit", "20")
    # Its length first: int() refuses a string of more than 4,300 digits with a ValueError.
    digits = limit.isascii() and limit.isdigit() and len(limit) <= len(str(MAX_LIMIT))
    if not (digits and 1 <= int(limit) <= MAX_LIMIT):
        return api_error(400, f"“limit” must be a whole number from 1 to {MAX_LIMIT}.")
    before = None
    if "before" in request.GET:
        try:
            before = decode_cursor(request.GET["before"])
        except BadCursor as e:
            return api_error(400, f"Bad “before” parameter: {e}.")
    found = Story.objects.public().filter(slug=slug).first()
    if found is None:
        return api_error(404, "No such story.")
    page, older = page_of_public_entries(
        found.entries.prefetch_related("authors"), size=int(limit), before=before
    )
    base = request.build_absolute_uri(reverse("liveblog:api_entries", args=[slug]))
    payload = {
        "entries": [entry_json(request, e) for e in page],
        "next": f"{base}?limit={limit}&before={older}" if older else None,
    }
    return api_response(payload)


def entry_json(request, entry):
    return {
        "id": entry.pk,
        "url": request.build_absolute_uri(entry.permalink),
        "headline": entry.headline,
        "dateline": entry.dateline,
        "body": entry.body,
        "text": entry.text,
        "correction": entry.correction,
        "html": entry.html,
        "published_at": entry.published_at,
        "updated_at": entry.revised_at or entry.published_at,
        "authors": [
            {"name": a.name, "url": request.build_absolute_uri(a.get_absolute_url())}
            for a in entry.authors.all()
        ],
        "cursor": entry.cursor,
    }
