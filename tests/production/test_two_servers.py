"""Two app servers behind one Varnish, sharing PostgreSQL and Redis: readers poll through
the balancer, reporters post through server 1, and server 2 is stopped and started again
mid-run. Nothing lost, nothing twice, nothing late, and no reader sees an error."""

import sys
import threading
import time

import pytest

from ..factories import EntryFactory, StoryFactory
from .conftest import finish_load, purge_through, start_load, wait_for
from .test_stack import get

pytestmark = [pytest.mark.production, pytest.mark.django_db(transaction=True)]

SECONDS = 22
STOP_AT, START_AT = 6, 10  # seconds from the start of the run
POLL_INTERVAL = 1  # LIVEBLOG_POLL_INTERVAL in the stack
LIFETIME = 4  # LIVEBLOG_UPDATES_MAX_AGE in the stack
# Readers wait 0.8 to 1.2 poll intervals between polls, and a poll takes time too.
SLACK = 1


@pytest.fixture(autouse=True)
def purge_the_proxy(settings, two_servers):
    # This module's proxy is the balancer, not the one-server stack's.
    purge_through(settings, two_servers.proxy)


def test_readers_miss_nothing_while_one_of_two_servers_restarts(two_servers, reporter):
    server1, server2 = two_servers.servers
    story = StoryFactory(slug="two-servers")
    EntryFactory(story=story)
    run = start_load(base=two_servers.proxy, origin=server1.url, story=story, seconds=SECONDS)
    served_before_restart = []

    def restart_server2():
        time.sleep(STOP_AT)
        server2.stop()
        served_before_restart.append(server2.requests_for("/stories/"))
        time.sleep(START_AT - STOP_AT)
        server2.start()

    restarter = threading.Thread(target=restart_server2)
    restarter.start()
    report = finish_load(run, seconds=SECONDS, title="Two-server report")
    restarter.join()
    wait_for(f"{server2.url}/healthz")  # the restarted server answers by itself too
    served = {s.name: s.requests_for("/stories/") for s in two_servers.servers}
    print(
        f"Server 2 stopped at {STOP_AT} s, started at {START_AT} s.",
        f"Story requests served: {served},",
        f"by server 2 after its restart: {served['app2'] - served_before_restart[0]}.",
        f"Fetches Varnish retried: {two_servers.varnish_counter('MAIN.fetch_failed')}.",
        f"Errors at (s): {[e['at'] for e in report['error_log']]}",
        file=sys.stderr,
    )

    assert run.returncode == 0
    assert report["posted"] >= SECONDS, "reporters kept posting"
    assert report["every_entry_reached_every_reader_once"], report
    assert report["delay_max_s"] <= POLL_INTERVAL + LIFETIME + SLACK, report
    assert report["error_log"] == []
    assert served_before_restart[0] > 0, "the balancer sent server 2 nothing"
    assert served["app1"] > 0
    assert served["app2"] > served_before_restart[0], "server 2 got nothing after its restart"


def test_a_read_sent_to_a_stopped_server_is_retried_on_the_other(two_servers):
    _server1, server2 = two_servers.servers
    server2.stop()
    # Before its probe notices, Varnish still counts a stopped server as healthy.
    two_servers.set_health("app2", "healthy")
    failed_before = two_servers.varnish_counter("MAIN.fetch_failed")
    try:
        # /healthz passes the cache: each read is a fetch, every other one to server 2.
        statuses = [get(f"{two_servers.proxy}/healthz")[0] for _ in range(10)]
        failed = two_servers.varnish_counter("MAIN.fetch_failed") - failed_before
    finally:
        two_servers.set_health("app2", "auto")
        server2.start()
    wait_for(f"{server2.url}/healthz")
    assert statuses == [200] * 10
    assert failed >= 4, "server 2 was asked, refused, and the read went to server 1"
