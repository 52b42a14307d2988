"""Proof under a real proxy and real faults (see conftest.py for the stack)."""

import json
import re
import subprocess
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connections

from liveblog import purge
from liveblog.models import Entry, Story

from ..factories import EntryFactory, StoryFactory
from .conftest import wait_for

pytestmark = [pytest.mark.production, pytest.mark.django_db(transaction=True)]

SECRET = "Embargoed: the minister resigns"
LIFETIME = 4  # LIVEBLOG_UPDATES_MAX_AGE in the stack
POLL_INTERVAL = 1


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer to look at, not to follow


OPENER = urllib.request.build_opener(NoRedirects)


def get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with OPENER.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def version(story):
    return Story.objects.get(pk=story.pk).version


def test_readers_at_many_versions_cost_one_origin_hit_per_url(stack):
    story = StoryFactory()
    for _ in range(4):
        EntryFactory(story=story)
    current = version(story)
    paths = [f"/stories/{story.slug}/updates/{v}/" for v in range(current - 3, current + 1)]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=24) as pool:
        statuses = list(pool.map(lambda p: get(stack.proxy + p)[0], paths * 60))
    elapsed = time.monotonic() - started
    assert set(statuses) == {200}
    assert elapsed < LIFETIME, "the burst must fit in one cache lifetime to count hits"
    assert {p: stack.origin_hits(p) for p in paths} == dict.fromkeys(paths, 1)


def test_a_new_entry_reaches_a_polling_reader_within_interval_plus_lifetime(stack):
    story = StoryFactory()
    EntryFactory(story=story)
    seen = {}
    stop = threading.Event()

    def reader(at):
        while not stop.is_set():
            status, _headers, body = get(f"{stack.proxy}/stories/{story.slug}/updates/{at}/")
            if status == 200:
                payload = json.loads(body)
                for entry in payload["entries"]:
                    seen.setdefault(entry["id"], time.monotonic())
                at = payload["version"]
            time.sleep(POLL_INTERVAL)

    thread = threading.Thread(target=reader, args=(version(story),), daemon=True)
    thread.start()
    time.sleep(1.5)
    posted_at = time.monotonic()
    entry = EntryFactory(story=Story.objects.get(pk=story.pk), headline="Breaking")
    deadline = posted_at + POLL_INTERVAL + LIFETIME + 1
    while entry.pk not in seen and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    thread.join(15)
    assert entry.pk in seen, "the entry never reached the reader"
    assert seen[entry.pk] - posted_at <= POLL_INTERVAL + LIFETIME


def test_unpublished_content_never_enters_the_proxy_cache(stack):
    story = StoryFactory()
    EntryFactory(story=story, headline="Public news")
    EntryFactory(story=story, headline=SECRET, status=Entry.Status.DRAFT)
    draft_story = StoryFactory(status=Story.Status.DRAFT, headline=SECRET)
    urls = [
        f"/stories/{story.slug}/",
        f"/stories/{story.slug}/updates/0/",
        f"/api/stories/{story.slug}/entries/",
        f"/stories/{story.slug}/feed/rss/",
        f"/stories/{draft_story.slug}/",
        "/api/stories/",
        "/sitemap.xml",
    ]
    for _ in range(2):  # the second round is served from the cache
        for url in urls:
            _status, _headers, body = get(stack.proxy + url)
            assert SECRET not in body, url


def test_unpublishing_purges_the_proxy_at_once(stack):
    story = StoryFactory()
    entry = EntryFactory(story=story, headline="Soon retracted")
    page = f"{stack.proxy}/stories/{story.slug}/"
    assert "Soon retracted" in get(page)[2]
    _status, headers, body = get(page)
    assert headers["X-Cache"] == "HIT" and "Soon retracted" in body
    entry.status = Entry.Status.DRAFT
    entry.save()  # commits, then queues the purge of story-<slug>
    purge.send_due()  # what the worker does at once
    _status, headers, body = get(page)
    assert "Soon retracted" not in body
    assert headers["X-Cache"] == "MISS"


def test_staff_pages_are_never_cached_by_the_proxy(stack, reporter):
    from django.test import Client

    story = StoryFactory()
    client = Client()
    client.force_login(reporter)
    cookie = {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}
    for _ in range(2):
        status, headers, _body = get(f"{stack.proxy}/desk/{story.slug}/", cookie)
        assert status == 200 and headers["X-Cache"] == "MISS"
        assert "private" in headers["Cache-Control"] or "no-cache" in headers["Cache-Control"]
    assert get(f"{stack.proxy}/desk/{story.slug}/")[0] == 302  # without the cookie: to login


def test_with_redis_stopped_pages_and_updates_are_served_and_it_recovers(stack, redis_server):
    story = StoryFactory()
    EntryFactory(story=story, headline="Served from the database")
    redis_server.stop()
    try:
        status, _headers, body = get(f"{stack.app}/stories/{story.slug}/")
        assert status == 200 and "Served from the database" in body
        assert get(f"{stack.app}/stories/{story.slug}/updates/0/")[0] == 200
        assert get(f"{stack.app}/healthz")[0] == 503
        # The proxy's probe has asked a few times by now: it still sends readers on.
        time.sleep(3)
        assert get(f"{stack.proxy}/stories/{story.slug}/updates/0/")[0] == 200
    finally:
        redis_server.start()
    wait_for(f"{stack.app}/healthz", 200, timeout=15)
    assert get(f"{stack.app}/stories/{story.slug}/")[0] == 200


def test_after_postgresql_restarts_the_app_recovers_without_its_own_restart(stack):
    story = StoryFactory()
    EntryFactory(story=story, headline="After the restart")
    cluster = sorted(Path("/etc/postgresql").iterdir())[0].name
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"], check=True
    )
    connections.close_all()  # this test process's own connection died with the server
    wait_for(f"{stack.app}/healthz", 200, timeout=30)
    status, _headers, body = get(f"{stack.app}/stories/{story.slug}/")
    assert status == 200 and "After the restart" in body


def test_static_files_have_hashed_names_and_long_lifetimes(stack):
    story = StoryFactory()
    _status, _headers, page = get(f"{stack.app}/stories/{story.slug}/")
    stylesheet = re.search(r'href="(/static/liveblog/site\.[0-9a-f]{12}\.css)"', page).group(1)
    status, headers, _body = get(stack.app + stylesheet)
    assert status == 200
    assert (
        "max-age=315360000" in headers["Cache-Control"] and "immutable" in headers["Cache-Control"]
    )
