"""Purges off the request path: queued after commit, sent by a worker, retried while the
endpoint fails, bounded, and logged. Past 300 lines: one test per behaviour of the queue,
with the endpoints they talk to."""

import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection

from liveblog import purge
from liveblog.models import Purge

from .factories import EntryFactory, StoryFactory

pytestmark = pytest.mark.django_db


class Endpoint:
    """A purge endpoint on loopback. It answers with ``status``, or accepts and never
    answers while ``status`` is None; it notes each connection and each key it purged."""

    def __init__(self, status=200, port=0):
        self.status = status
        self.connections = []
        self.purged = []
        self.release = threading.Event()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def setup(self):
                endpoint.connections.append(self.client_address)
                super().setup()

            def do_PURGE(self):
                if endpoint.status is None:
                    endpoint.release.wait()
                    return
                if endpoint.status == 200:
                    endpoint.purged.append(self.headers["Surrogate-Key"])
                self.send_response(endpoint.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoints():
    started = []

    def start(status=200, port=0):
        started.append(Endpoint(status, port))
        return started[-1]

    yield start
    for endpoint in started:
        endpoint.close()


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(params=["refuses", "answers 500", "hangs"])
def failing(request, settings, endpoints):
    """LIVEBLOG_PURGE_URL that fails one way, and a function that brings it back."""
    settings.LIVEBLOG_PURGE_TIMEOUT = 0.2
    if request.param == "refuses":
        port = closed_port()
        settings.LIVEBLOG_PURGE_URL = f"http://127.0.0.1:{port}/"
        return lambda: endpoints(200, port)
    endpoint = endpoints(500 if request.param == "answers 500" else None)
    settings.LIVEBLOG_PURGE_URL = endpoint.url

    def come_back():
        endpoint.status = 200
        return endpoint

    return come_back


def queued_keys():
    return sorted(Purge.objects.values_list("key", flat=True))


def test_nothing_is_queued_without_a_purge_url(settings):
    settings.LIVEBLOG_PURGE_URL = ""
    purge.queue("story-iran")
    assert queued_keys() == []


def test_a_key_queued_while_it_waits_is_queued_once(settings, endpoints):
    endpoint = endpoints()
    settings.LIVEBLOG_PURGE_URL = endpoint.url
    purge.queue("story-iran", "stories")
    purge.queue("story-iran", "stories", "story-iran")
    assert queued_keys() == ["stories", "story-iran"]
    purge.send_due()
    assert sorted(endpoint.purged) == ["stories", "story-iran"]
    assert queued_keys() == []


def test_a_save_queues_its_purges_and_leaves_the_network_to_the_worker(
    settings, endpoints, django_capture_on_commit_callbacks
):
    hanging = endpoints(status=None)
    settings.LIVEBLOG_PURGE_URL = hanging.url
    settings.LIVEBLOG_PURGE_TIMEOUT = 0.2
    story = StoryFactory(slug="iran")
    with django_capture_on_commit_callbacks(execute=True):
        EntryFactory(story=story)
    assert queued_keys() == ["stories", "story-iran"]
    assert hanging.connections == []
    purge.send_due()
    assert len(hanging.connections) == 2


def test_a_failing_endpoint_gets_the_purge_again_later_until_it_comes_back(failing, clock, caplog):
    purge.queue("story-iran")
    waits = []
    for tries in range(1, 5):
        purge.send_due()
        row = Purge.objects.get()
        assert row.attempts == tries
        waits.append((row.due_at - clock.now).total_seconds())
        assert purge.send_due() == row.due_at  # not due yet: not sent
        assert Purge.objects.get().attempts == tries
        clock.now = row.due_at
    assert waits == [1, 2, 4, 8]
    assert "Purging story-iran at" in caplog.text and "retrying in 8 s" in caplog.text
    endpoint = failing()
    assert purge.send_due() is None
    assert endpoint.purged == ["story-iran"]
    assert "Purged story-iran" in caplog.text


def test_it_gives_up_after_a_few_minutes_of_failures_and_logs_it(settings, clock, caplog):
    settings.LIVEBLOG_PURGE_URL = f"http://127.0.0.1:{closed_port()}/"
    started = clock.now
    purge.queue("story-iran")
    tries = 0
    while Purge.objects.exists() and tries < 20:
        clock.now = Purge.objects.get().due_at
        purge.send_due()
        tries += 1
    assert tries == purge.MAX_ATTEMPTS
    assert timedelta(minutes=2) < clock.now - started < timedelta(minutes=10)
    [gave_up] = [record for record in caplog.records if record.levelname == "ERROR"]
    assert gave_up.getMessage().startswith("Gave up purging story-iran at")


def test_an_endpoint_that_rejects_the_request_is_not_asked_again(settings, endpoints, caplog):
    settings.LIVEBLOG_PURGE_URL = endpoints(405).url
    purge.queue("story-iran")
    purge.send_due()
    assert queued_keys() == []
    assert "Gave up purging story-iran" in caplog.text and "405" in caplog.text


def test_a_purge_url_without_a_scheme_is_given_up_at_once_and_logged(settings, caplog):
    settings.LIVEBLOG_PURGE_URL = "varnish/purge"
    purge.queue("story-iran")
    purge.send_due()
    assert queued_keys() == []
    assert "Gave up purging story-iran at varnish/purge" in caplog.text


def test_the_queue_stops_growing_at_its_limit(settings, caplog):
    settings.LIVEBLOG_PURGE_URL = f"http://127.0.0.1:{closed_port()}/"
    settings.LIVEBLOG_PURGE_QUEUE_LIMIT = 3
    purge.queue("story-a", "story-b")
    purge.queue("story-c", "story-d", "story-e")
    purge.queue("story-a")  # already waiting: nothing to drop
    assert queued_keys() == ["story-a", "story-b", "story-c"]
    [warning] = [record for record in caplog.records if record.levelname == "WARNING"]
    assert warning.getMessage() == "Purge queue is full: dropped story-d story-e"


def test_a_database_error_while_queueing_is_logged_not_raised(settings, monkeypatch, caplog):
    settings.LIVEBLOG_PURGE_URL = f"http://127.0.0.1:{closed_port()}/"

    def fail(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(Purge.objects, "bulk_create", fail)
    purge.queue("story-iran")
    assert "Queueing purges of story-iran failed" in caplog.text


def test_a_worker_skips_the_keys_another_worker_sent_meanwhile(settings, endpoints, monkeypatch):
    endpoint = endpoints()
    settings.LIVEBLOG_PURGE_URL = endpoint.url
    keys = [f"story-{n}" for n in range(5)]
    purge.queue(*keys)
    send = purge._send

    def another_worker_runs_first(row, claimed):
        # The first worker has listed every due row; the second sends them all while
        # the first sends its first one.
        monkeypatch.setattr(purge, "_send", send)
        purge.send_due()
        send(row, claimed)

    monkeypatch.setattr(purge, "_send", another_worker_runs_first)
    purge.send_due()
    assert sorted(endpoint.purged) == sorted(keys)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the tests' in-memory SQLite locks whole tables between threads",
)
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_key_once(settings, endpoints):
    endpoint = endpoints()
    settings.LIVEBLOG_PURGE_URL = endpoint.url
    keys = [f"story-{n}" for n in range(40)]
    purge.queue(*keys)
    start, errors = threading.Barrier(2), []

    def work():
        start.wait()
        try:
            purge.send_due()
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert sorted(endpoint.purged) == sorted(keys)
    assert queued_keys() == []


@pytest.mark.django_db(transaction=True)
def test_the_worker_thread_sends_what_was_queued(settings, endpoints):
    endpoint = endpoints()
    settings.LIVEBLOG_PURGE_URL = endpoint.url
    settings.LIVEBLOG_PURGE_IN_PROCESS = True
    try:
        purge.start_worker()  # as gunicorn does in each of its workers
        purge.queue("story-iran")
        deadline = time.monotonic() + 5
        while not endpoint.purged and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        purge.stop_worker()
    assert endpoint.purged == ["story-iran"]
    assert queued_keys() == []


def test_the_worker_thread_outlives_a_failing_round(monkeypatch, caplog):
    rounds = []

    def send_due():
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise DatabaseError("the database went away")

    monkeypatch.setattr(purge, "send_due", send_due)
    worker = purge.Worker(idle=None)
    worker.start()
    try:
        deadline = time.monotonic() + 5
        while not rounds and time.monotonic() < deadline:
            time.sleep(0.01)
        worker.wake.set()
        while len(rounds) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        worker.stop()
    assert len(rounds) == 2
    assert "Sending purges failed" in caplog.text


def test_send_purges_once_sends_what_is_due_and_exits(settings, endpoints):
    endpoint = endpoints()
    settings.LIVEBLOG_PURGE_URL = endpoint.url
    purge.queue("story-iran")
    call_command("send_purges", "--once")
    assert endpoint.purged == ["story-iran"]


def test_a_short_lived_process_starts_no_worker_and_its_purges_wait(settings, endpoints):
    endpoint = endpoints()
    settings.LIVEBLOG_PURGE_URL = endpoint.url
    settings.LIVEBLOG_PURGE_IN_PROCESS = True
    purge.queue("story-iran")  # as a management command or a shell does
    assert purge.stop_worker() is None
    assert endpoint.connections == []
    assert queued_keys() == ["story-iran"]


def test_a_purge_claimed_by_a_worker_that_died_is_sent_later(settings, endpoints, clock):
    endpoint = endpoints()
    settings.LIVEBLOG_PURGE_URL = endpoint.url
    purge.queue("story-iran")

    def dies_while_sending(row, claimed):
        raise SystemExit  # the process exits with the purge claimed, not sent

    with pytest.raises(SystemExit):
        original, purge._send = purge._send, dies_while_sending
        try:
            purge.send_due()
        finally:
            purge._send = original
    assert purge.send_due() is not None  # still claimed: nobody sends it yet
    assert endpoint.purged == []
    clock.advance(seconds=purge.CLAIM_SECONDS + 1)
    purge.send_due()
    assert endpoint.purged == ["story-iran"]
    assert queued_keys() == []


def test_a_key_queued_while_it_was_being_sent_is_sent_again(settings, endpoints, monkeypatch):
    endpoint = endpoints()
    settings.LIVEBLOG_PURGE_URL = endpoint.url
    purge.queue("story-iran")
    send = purge._send

    def a_change_commits_meanwhile(row, claimed):
        purge.queue("story-iran")
        send(row, claimed)

    monkeypatch.setattr(purge, "_send", a_change_commits_meanwhile)
    purge.send_due()
    monkeypatch.setattr(purge, "_send", send)
    assert queued_keys() == ["story-iran"]
    purge.send_due()
    assert endpoint.purged == ["story-iran", "story-iran"]


def test_a_garbled_answer_is_retried_not_lost(settings, caplog):
    server = socket.create_server(("127.0.0.1", 0))

    def answer_garbage():
        conn, _ = server.accept()
        conn.recv(65536)
        conn.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        conn.close()

    threading.Thread(target=answer_garbage, daemon=True).start()
    settings.LIVEBLOG_PURGE_URL = f"http://127.0.0.1:{server.getsockname()[1]}/"
    try:
        purge.queue("story-iran", "stories")
        purge.send_due()
    finally:
        server.close()
    assert queued_keys() == ["stories", "story-iran"]
    assert Purge.objects.filter(attempts=1).exists()
    assert "retrying" in caplog.text
