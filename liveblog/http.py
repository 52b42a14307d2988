"""HTTP for the public views: how long browsers and the caches in front may keep an
answer, the address pages name as theirs, and a 400 that says what is wrong.

Every public view, feed and list says how long the same way, with ``public_cache``.
Which answers a purge reaches is the other half of HTTP caching: middleware.py, purge.py.
"""

import functools

from django.conf import settings
from django.http import HttpResponseBadRequest
from django.utils.cache import patch_cache_control

# As Django's own cache middleware does, keep only what succeeded: a 400 or a 404
# (an unpublished story) is asked again, never served from a cache.
CACHEABLE_STATUSES = (200, 304)
# Browsers keep an answer this long at most: a reader who reloads sees news at once.
BROWSER_MAX_AGE = 2
# What a failing origin may be covered with, whatever the answer's lifetime.
STALE_IF_ERROR = 600


def page_max_age():
    return settings.LIVEBLOG_PAGE_MAX_AGE


def updates_max_age():
    return settings.LIVEBLOG_UPDATES_MAX_AGE


def public_cache(max_age):
    """Decorate a public view: the caches in front may keep its successful answers for
    ``max_age`` seconds (a number, or a function that reads it from the settings per
    request), and serve them stale while they fetch a new one or while the origin fails.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if response.status_code in CACHEABLE_STATUSES:
                seconds = max_age() if callable(max_age) else max_age
                patch_cache_control(
                    response,
                    public=True,
                    max_age=min(seconds, BROWSER_MAX_AGE),
                    s_maxage=seconds,
                    stale_while_revalidate=seconds * 3,
                    stale_if_error=STALE_IF_ERROR,
                )
            return response

        return wrapped

    return decorator


def canonical_origin(request):
    """The scheme and host a page names as its address (its canonical link, social
    cards and structured data): LIVEBLOG_CANONICAL_ORIGIN, or the request's own.

    A first page is rendered once per version and origin (views.story_page), so with a
    wildcard in ALLOWED_HOSTS the setting keeps every new host name from costing a
    render and a copy in the cache."""
    return settings.LIVEBLOG_CANONICAL_ORIGIN or f"{request.scheme}://{request.get_host()}"


def bad_request(reason):
    """A 400 that says what is wrong, in plain text."""
    return HttpResponseBadRequest(reason, content_type="text/plain; charset=utf-8")
