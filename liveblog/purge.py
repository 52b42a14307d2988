"""Tell the caches in front that a story changed.

Public answers carry surrogate keys (``Surrogate-Key`` for Fastly and Varnish,
``Cache-Tag`` for Cloudflare and others): ``story-<slug>`` on everything about one
story, ``stories`` on the lists of stories. After a change commits, a request with
LIVEBLOG_PURGE_METHOD goes to LIVEBLOG_PURGE_URL for each key; with no URL set,
caches simply expire answers after their short lifetimes.
"""

import logging
import urllib.request

from django.conf import settings

logger = logging.getLogger(__name__)

LISTS_KEY = "stories"


def story_key(slug):
    return f"story-{slug}"


def tag(response, *keys):
    response["Surrogate-Key"] = response["Cache-Tag"] = " ".join(keys)
    return response


def purge(*keys):
    url = settings.LIVEBLOG_PURGE_URL
    if not url:
        return
    for key in keys:
        request = urllib.request.Request(  # noqa: S310 - a URL from our own settings
            url, method=settings.LIVEBLOG_PURGE_METHOD, headers={"Surrogate-Key": key}
        )
        try:
            with urllib.request.urlopen(request, timeout=2):  # noqa: S310
                pass
        except OSError as error:
            logger.warning("Purging %s at %s failed: %s", key, url, error)


def queue(*keys):
    purge(*keys)
