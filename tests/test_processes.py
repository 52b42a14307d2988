"""The live promise with several processes: gunicorn's workers serve an entry that
another process saved, on the default settings (file cache) and with Redis.

Everything runs in subprocesses on a SQLite database of its own in tmp_path: the test
needs neither pytest-django's database nor a server installed (Redis only when
REDIS_URL names one).
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .production.conftest import free_port, wait_for

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 3
READERS = 30
FRESH_WITHIN = 2.0  # seconds after the saving process exits
GIVE_UP_AFTER = 5.0  # keep looking a little longer, to say how stale a failure is

CREATE_STORY = """
from liveblog.models import Entry, Story
story = Story.objects.create(headline="Storm live", slug="{slug}", status=Story.Status.LIVE)
Entry.objects.create(story=story, headline="First update", body="The storm makes landfall.")
"""
SAVE_ENTRY = """
from liveblog.models import Entry, Story
story = Story.objects.get(slug="{slug}")
Entry.objects.create(story=story, headline="{headline}", body="Saved from another process.")
"""


class Site:
    """gunicorn with several workers on a fresh SQLite database, and its manage.py."""

    def __init__(self, tmp_path, cache, redis_url):
        self.tmp, self.cache = tmp_path, cache
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / "access.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "newsroom.settings",
            "DEBUG": "true",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "CACHE_DIR": str(tmp_path / "cache"),
            "REDIS_URL": redis_url,
            "LIVEBLOG_PURGE_URL": "",
            "BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(WORKERS),
            "GUNICORN_ACCESS_LOG": str(self.log),
            # The worker's pid in the access log, to know that every worker served.
            "GUNICORN_CMD_ARGS": "--access-logformat '%(p)s \"%(r)s\" %(s)s'",
        }
        self.server = None

    def manage(self, *args):
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True, timeout=60
        )

    def shell(self, code):
        self.manage("shell", "-v", "0", "-c", code)

    def start(self):
        self.server = subprocess.Popen(
            [Path(sys.executable).with_name("gunicorn"), "-c", "gunicorn.conf.py", "newsroom.wsgi"],
            cwd=ROOT,
            env=self.env,
            stdout=open(self.tmp / "gunicorn.out", "w"),  # noqa: SIM115 - open while it runs
            stderr=subprocess.STDOUT,
        )
        wait_for(f"{self.url}/healthz")

    def stop(self):
        if self.server:
            self.server.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
            self.server.wait(20)

    def get(self, path):
        # urllib sends "Connection: close": every request is a new TCP connection.
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return response.read().decode()

    def workers_that_served(self, path, since_line=0):
        lines = self.log.read_text().splitlines()[since_line:]
        return {line.split()[0] for line in lines if f'"GET {path} ' in line}

    def log_length(self):
        return len(self.log.read_text().splitlines())


@pytest.fixture(params=["defaults", "redis"])
def site(request, tmp_path):
    redis_url = ""
    if request.param == "redis":
        redis_url = os.environ.get("REDIS_URL", "")
        if not redis_url:
            pytest.skip("needs REDIS_URL naming a Redis to use (CI sets it)")
    site = Site(tmp_path, request.param, redis_url)
    site.manage("migrate", "--noinput", "-v", "0")
    try:
        yield site
    finally:
        site.stop()


def readers(site, slug, since):
    """What 30 readers on fresh connections see: for each, whether the page and a poll
    from version ``since`` carry the new entry."""

    def read(_):
        page = site.get(f"/stories/{slug}/")
        poll = json.loads(site.get(f"/stories/{slug}/updates/{since}/"))
        return page, " ".join(entry["html"] for entry in poll["entries"])

    with ThreadPoolExecutor(max_workers=10) as pool:
        return list(pool.map(read, range(READERS)))


def test_every_worker_serves_an_entry_saved_by_another_process_within_2s(site):
    # A slug of its own: Redis may hold versions of earlier runs' stories.
    slug = f"storm-{uuid.uuid4().hex[:8]}"
    site.shell(CREATE_STORY.format(slug=slug))
    site.start()
    page = f"/stories/{slug}/"
    # Warm up until every worker has cached the story's version and first page.
    for _ in range(10):
        version = int(re.search(r'data-version="(\d+)"', site.get(page)).group(1))
        assert all("First update" in html for html, _ in readers(site, slug, version))
        if len(site.workers_that_served(page)) == WORKERS:
            break
    assert len(site.workers_that_served(page)) == WORKERS, "not every worker was reached"

    headline = "Saved by another process"
    site.shell(SAVE_ENTRY.format(slug=slug, headline=headline))
    saved, since_line = time.monotonic(), site.log_length()
    while True:
        answers = readers(site, slug, version)
        elapsed = time.monotonic() - saved
        stale_pages = sum(headline not in html for html, _ in answers)
        stale_polls = sum(headline not in poll for _, poll in answers)
        if not (stale_pages or stale_polls) or elapsed > GIVE_UP_AFTER:
            break
    print(
        f"\n{site.cache}: {READERS} readers, {stale_pages} pages and {stale_polls} polls "
        f"without the entry {elapsed:.2f} s after the saving process exited"
    )
    assert (stale_pages, stale_polls) == (0, 0)
    assert elapsed <= FRESH_WITHIN
    assert len(site.workers_that_served(page, since_line)) == WORKERS
