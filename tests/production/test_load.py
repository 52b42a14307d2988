"""Readers and reporters together for a fixed time, with PostgreSQL restarted and Redis
stopped mid-run: nothing lost, nothing twice, errors only while a fault lasts."""

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connections

from ..factories import EntryFactory, StoryFactory
from .conftest import finish_load, start_load

pytestmark = [pytest.mark.production, pytest.mark.django_db(transaction=True)]

SECONDS = 24
# (start, end) of each fault, in seconds from the start of the run.
PG_RESTART_AT = 6
REDIS_DOWN = (12, 16)
AFTER_FAULT = 6  # a poll interval, a retry back-off and a cache lifetime


def restart_postgresql():
    cluster = sorted(Path("/etc/postgresql").iterdir())[0].name
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"], check=True
    )


def test_readers_and_reporters_through_faults(stack, redis_server, reporter):
    story = StoryFactory(slug="under-load")
    EntryFactory(story=story)
    run = start_load(base=stack.proxy, origin=stack.app, story=story, seconds=SECONDS)
    faults = []

    def inject():
        time.sleep(PG_RESTART_AT)
        started = time.monotonic()
        restart_postgresql()
        faults.append((PG_RESTART_AT, PG_RESTART_AT + time.monotonic() - started))
        time.sleep(max(0, REDIS_DOWN[0] - PG_RESTART_AT - (time.monotonic() - started)))
        redis_server.stop()
        time.sleep(REDIS_DOWN[1] - REDIS_DOWN[0])
        redis_server.start()
        faults.append(REDIS_DOWN)

    injector = threading.Thread(target=inject)
    injector.start()
    report = finish_load(run, seconds=SECONDS, title="Load report")
    injector.join()
    connections.close_all()  # ours died with the PostgreSQL restart
    print(
        "Faults (s):",
        faults,
        "errors at (s):",
        [e["at"] for e in report["error_log"]],
        file=sys.stderr,
    )

    assert run.returncode == 0
    assert report["posted"] >= SECONDS, "reporters kept posting"
    assert report["every_entry_reached_every_reader_once"], report
    outside = [
        e
        for e in report["error_log"]
        if not any(start - 1 <= e["at"] <= end + AFTER_FAULT for start, end in faults)
    ]
    assert outside == [], outside
