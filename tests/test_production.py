"""Production settings and behaviour: security headers, health, soft cache failures,
surrogate keys and purges. (The proof under a real proxy is tests/production/.)"""

import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import caches
from django.test import override_settings

from liveblog import purge
from liveblog.models import Purge, Story

from .factories import EntryFactory, StoryFactory

pytestmark = pytest.mark.django_db

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789abcdef",
    "ALLOWED_HOSTS": "news.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://news.example.com",
    "DATABASE_URL": "sqlite:////tmp/check-deploy.sqlite3",
}


def run_manage(*args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env={**os.environ, "REDIS_URL": "", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_production_settings_pass_check_deploy():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_asks_for_a_canonical_origin_with_a_wildcard_host():
    env = {**PRODUCTION_ENV, "ALLOWED_HOSTS": ".example.com"}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode != 0
    assert "LIVEBLOG_CANONICAL_ORIGIN" in result.stderr
    env["LIVEBLOG_CANONICAL_ORIGIN"] = "https://news.example.com"
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("DEBUG", "maybe", "DEBUG must be true or false"),
        ("LIVEBLOG_PAGE_SIZE", "many", "LIVEBLOG_PAGE_SIZE must be an integer"),
        ("TIME_ZONE", "Mars/Base", "TIME_ZONE must be an IANA time zone"),
        ("LIVEBLOG_EMBED_ORIGINS", "partner.example;script", "is not an origin"),
        ("LIVEBLOG_CANONICAL_ORIGIN", "https://a.example,https://b.example", "is one origin"),
    ],
)
def test_bad_settings_fail_loudly(name, value, says):
    result = run_manage("check", **{name: value})
    assert result.returncode != 0
    assert says in result.stderr


def test_pages_carry_the_security_headers(client, story):
    response = client.get(story.get_absolute_url())
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Frame-Options"] == "DENY"
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


def test_healthz_says_both_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok"}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


DEAD_REDIS = {
    "default": {
        "BACKEND": "liveblog.redis_cache.ResilientRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        "OPTIONS": {"socket_connect_timeout": 0.1, "socket_timeout": 0.1},
    }
}


def test_the_redis_cache_makes_one_client_for_every_call():
    from liveblog.redis_cache import ResilientRedisCache

    backend = ResilientRedisCache(DEAD_REDIS["default"]["LOCATION"], {})
    client = backend._cache.get_client("a-key")
    assert backend._cache.get_client("another-key", write=True) is client


def test_healthz_says_503_when_the_cache_does_not_answer(client):
    with override_settings(CACHES=DEAD_REDIS):
        caches._settings = caches.settings = DEAD_REDIS
        try:
            response = client.get("/healthz")
        finally:
            del caches._settings
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "cache": "failing"}


def test_with_redis_down_pages_and_updates_come_from_the_database(client, story):
    EntryFactory(story=story, headline="Still served")
    with override_settings(CACHES=DEAD_REDIS):
        caches._settings = caches.settings = DEAD_REDIS
        try:
            page = client.get(story.get_absolute_url())
            updates = client.get(f"/stories/{story.slug}/updates/0/")
            EntryFactory(story=Story.objects.get(pk=story.pk), headline="Posted during the outage")
        finally:
            del caches._settings
    assert page.status_code == 200 and "Still served" in page.content.decode()
    assert updates.status_code == 200 and updates.json()["entries"]


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs Redis (CI runs it with REDIS_URL)"
)
def test_versions_written_while_redis_was_down_are_forgotten_when_it_returns(story):
    from django.core.cache import cache

    from liveblog.changes import version_key

    cache.set(version_key(story.slug), 41)
    cache._lost_writes = True  # as after a delete that failed during an outage
    cache.get("anything")  # the first answer from Redis
    assert cache.get(version_key(story.slug)) is None


def test_healthz_carries_no_surrogate_key(client):
    # Every public answer's key is checked in test_http.py.
    assert "Surrogate-Key" not in client.get("/healthz")


@pytest.fixture
def purge_receiver():
    received = []

    class Receiver(BaseHTTPRequestHandler):
        def do_PURGE(self):
            received.append(self.headers["Surrogate-Key"])
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/purge", received
    server.shutdown()


def test_a_change_purges_its_story_after_commit(
    settings, purge_receiver, django_capture_on_commit_callbacks
):
    url, received = purge_receiver
    settings.LIVEBLOG_PURGE_URL = url
    story = StoryFactory(slug="iran")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        EntryFactory(story=story)
    assert not Purge.objects.exists()  # nothing queued before the commit
    for callback in callbacks:
        callback()
    assert received == []  # queued for the worker, not sent by the saving request
    purge.send_due()
    assert sorted(received) == ["stories", "story-iran"]


def test_a_failing_purge_is_logged_and_kept_for_later(
    settings, django_capture_on_commit_callbacks, caplog
):
    settings.LIVEBLOG_PURGE_URL = "http://127.0.0.1:1/purge"
    with django_capture_on_commit_callbacks(execute=True):
        EntryFactory()
    purge.send_due()
    assert "Purging" in caplog.text
    assert Purge.objects.filter(attempts=1).count() == 2
