"""Counting requests in the shared cache: every process and machine counts together, so
a limit holds however many workers serve (a process's own memory would not)."""

import time

from django.core.cache import cache
from django.utils.crypto import salted_hmac


def allow(scope, who, *, limit, window):
    """Count one request of ``who`` in ``scope`` and say whether it is within ``limit``
    per fixed window of ``window`` seconds. ``who`` is hashed: the cache holds no address."""
    bucket = int(time.time() // window)
    digest = salted_hmac("liveblog.ratelimit", f"{scope}:{who}").hexdigest()[:32]
    key = f"liveblog:rate:{scope}:{digest}:{bucket}"
    # add() then incr(): atomic on Redis; on the file cache two processes may both
    # count one, which errs on the side of refusing.
    cache.add(key, 0, window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between the two calls: this request starts the window
        cache.set(key, 1, window + 1)
        count = 1
    return count <= limit
