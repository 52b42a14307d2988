"""A Redis cache that fails soft.

When Redis is down, reads are misses and writes are skipped, so every view falls back
to the database: slower, logged, but up. After a failure Redis is left alone for a
couple of seconds (not one connection timeout per cache call), then tried again; its
client reconnects by itself.

A write lost while Redis was down can leave a stale value behind: a story's cached
version from before it went back to draft, say. So once Redis answers again, the
process that lost writes deletes every cached story version; the views read them from
the database again, and nothing unpublished is served from a stale key.
"""

import logging
import time

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

from .changes import VERSION_KEY_PATTERN

logger = logging.getLogger(__name__)

RETRY_AFTER = 2.0  # seconds


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's client, with one ``redis.Redis`` per connection pool for every call.

    Django's makes a new one on each call (``get_client``), which with redis-py 8 costs
    about as much as the round trip to Redis itself. A ``redis.Redis`` is safe to share
    between threads: each command takes a connection from the pool.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        # _get_connection_pool is Django's: which server a read or write goes to, and
        # its pool, made once. A pool is never replaced, so its id names it.
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = redis.Redis(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        # The client class is what Django's RedisCache builds its client from; it has
        # no setting for it, so it is set here as Django's own __init__ does.
        self._class = ReusedClientRedisCacheClient
        self._down_until = 0.0
        self._lost_writes = False

    def _call(self, fallback, method, *args, write=False, **kwargs):
        if time.monotonic() < self._down_until:
            self._lost_writes = self._lost_writes or write
            return fallback
        try:
            result = method(*args, **kwargs)
        except RedisError as error:
            self._down_until = time.monotonic() + RETRY_AFTER
            self._lost_writes = self._lost_writes or write
            logger.warning("Redis unavailable (%s): serving from the database", error)
            return fallback
        if self._lost_writes:
            self._forget_versions()
        return result

    def _forget_versions(self):
        try:
            # Django's RedisCache offers no pattern delete: its client is the way to
            # Redis's SCAN, as the backend's own methods reach it.
            client = self._cache.get_client(write=True)
            keys = list(client.scan_iter(match=VERSION_KEY_PATTERN, count=1000))
            if keys:
                client.delete(*keys)
        except RedisError:
            return
        self._lost_writes = False
        logger.warning("Redis is back: forgot %d cached story versions", len(keys))

    def get(self, key, default=None, version=None):
        return self._call(default, super().get, key, default, version)

    def get_many(self, keys, version=None):
        return self._call({}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._call(False, super().has_key, key, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(False, super().add, key, value, timeout, version, write=True)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(None, super().set, key, value, timeout, version, write=True)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call([], super().set_many, data, timeout, version, write=True)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(False, super().touch, key, timeout, version, write=True)

    def delete(self, key, version=None):
        return self._call(False, super().delete, key, version, write=True)

    def delete_many(self, keys, version=None):
        return self._call(None, super().delete_many, keys, version, write=True)

    def clear(self):
        return self._call(None, super().clear, write=True)
