"""/healthz: whether this process reaches what it needs, for load balancers and probes."""

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
    # Ask Redis itself: the cache backend turns its failures into misses.
    try:
        redis = getattr(cache, "_cache", None)
        if redis is not None and hasattr(redis, "get_client"):
            return bool(redis.get_client().ping())
        cache.set("healthz", "ok", 10)
        return cache.get("healthz") == "ok"
    except Exception:
        return False
