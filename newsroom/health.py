"""/healthz: whether this process reaches what it needs, for load balancers and probes."""

import uuid

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


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
    # A value written and read back: the Redis backend turns its failures into skipped
    # writes and misses, which this notices. The key is this request's own, so
    # processes checking at once do not read each other's.
    key = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "ok", 10)
        answers = cache.get(key) == "ok"
        cache.delete(key)
        return answers
    except Exception:
        return False
