"""The live-updates protocol: what changed in a story since the version a reader's page
shows, or a 304 when nothing did (static/liveblog/story.js asks every few seconds)."""

import re

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from .changes import cached_version, recent_version, remember_version
from .http import bad_request, public_cache, updates_max_age
from .models import Story, StoryChange
from .stream import STREAM_FIELDS

VERSION = re.compile(r"[0-9]{1,18}")


@require_GET
@public_cache(updates_max_age)
def story_updates(request, slug, since):
    """What changed in a story since version ``since``, for readers with the page open.

    The version is part of the path, not the query string, because some CDNs leave
    query strings out of their cache keys.

    URLs are keyed by versions the server gave out, so every reader at a version asks
    the same URL and caches in front answer almost all of them. A reader already at
    the current version gets a short "no change" answer, and a cache or browser
    revalidating what it holds gets a 304: both from the cache alone when it knows
    the version, the 304 from the version this process read a moment ago when it did
    (changes.recent_version). (A 304 only ever answers a conditional request: Varnish
    rightly refuses one that answers a plain GET.)
    """
    if not VERSION.fullmatch(since):
        return bad_request("“since” must be a story version: a whole number from the story page.")
    since = int(since)
    etag = request.META.get("HTTP_IF_NONE_MATCH")
    recent = recent_version(slug)
    if recent is not None and etag == _etag(since, recent):
        return _not_modified(since, recent)
    current = cached_version(slug)
    story = None
    if current is None:
        story = _story_for_updates(slug)
        current = story.version
    if etag == _etag(since, current):
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
        context["key_points"] = story.key_points_shown
        payload["key_points_html"] = render_to_string("liveblog/_key_points.html", context)
    # Every change moves the story's "Updated" time, which the header shows.
    payload["header_html"] = render_to_string("liveblog/_story_header.html", context)
    return _updates_response(payload, since)


def _etag(since, version):
    return f'"{since}-{version}"'


def _not_modified(since, version):
    response = HttpResponse(status=304)
    response["ETag"] = _etag(since, version)
    return response


def _updates_response(payload, since):
    response = JsonResponse(payload)
    response["ETag"] = _etag(since, payload["version"])
    return response
