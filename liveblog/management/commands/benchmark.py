"""Measure the public views against a bare Django view, in one run, as ratios.

Runs on a throwaway test database (created and destroyed here) through Django's
full request handler, middleware and URL table (with the bare view: benchmark_urls.py),
so the figures compare like with like on this machine whatever its speed.
``python manage.py benchmark`` (``make bench``); with ``--gunicorn``, through the
production stack instead (benchmark_stack.py, ``make bench-gunicorn``); ``--archive``
times the staff pages on the demo data and on a newsroom's archive (archive_bench.py).
"""

import logging
import socket
import statistics
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.management import BaseCommand
from django.db import connection
from django.test import Client, override_settings

from liveblog import purge
from liveblog.changes import version_key
from liveblog.management import archive_bench, benchmark_stack
from liveblog.models import Entry, Story

START = datetime(2020, 1, 6, 21, 0, tzinfo=UTC)
PRIVATE_CACHE = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def time_urls(client, measured, requests, big):
    """The best of three medians of ``requests`` GETs of each URL in ``measured``:
    (url, status, render), "render" forgetting the rendered first pages first so the
    request renders one. Throughput is a steady state: each URL is timed in a block of
    its own after a warm-up, three times over, keeping its best median (as timeit keeps
    its best run) so a busy moment of the machine does not count."""
    median = {}
    for _ in range(3):
        for name, (url, status, render) in measured.items():
            times = []
            for n in range(requests + requests // 5):  # the first fifth warms up
                if render:
                    cache.delete_many([version_key("small"), version_key("big")])
                started = time.perf_counter()
                # The 304 is a browser or cache revalidating the answer it holds.
                headers = (
                    {"if_none_match": f'"{big.version}-{big.version}"'} if status == 304 else {}
                )
                response = client.get(url, headers=headers)
                elapsed = time.perf_counter() - started
                assert response.status_code == status, url  # noqa: S101 - a benchmark, not a test
                if n >= requests // 5:
                    times.append(elapsed)
            median[name] = min(median.get(name, float("inf")), statistics.median(times))
    return median


class HangingEndpoint:
    """A purge endpoint that accepts connections and never answers."""

    def __enter__(self):
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=64)
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/"

    def __exit__(self, *exc):
        self.sock.close()


def time_saves(story, count):
    """Median and slowest time (s) of posting an entry, its after-commit steps included
    (version published, purges queued), without a purge endpoint and with one that
    hangs: the save must not wait for the network."""
    results = {}
    # The worker's retries against the hanging endpoint are expected here: not logged.
    logging.getLogger("liveblog.purge").disabled = True
    try:
        with HangingEndpoint() as hanging:
            for name, url in (("no purge URL", ""), ("hanging purge endpoint", hanging)):
                times = []
                with override_settings(LIVEBLOG_PURGE_URL=url, LIVEBLOG_PURGE_TIMEOUT=1):
                    for n in range(count):
                        entry = Entry(story=story, headline=f"Saved {n}", body="Body.")
                        started = time.perf_counter()
                        entry.save()  # autocommit: its after-commit steps run before it returns
                        times.append(time.perf_counter() - started)
                    purge.stop_worker()
                results[name] = (statistics.median(times), max(times))
    finally:
        logging.getLogger("liveblog.purge").disabled = False
    return results


def make_story(slug, count):
    story = Story.objects.create(headline=f"Benchmark {slug}", slug=slug, status=Story.Status.LIVE)
    template = Entry(story=story, headline="Headline", dateline="WASHINGTON", body="Body.\n\nMore.")
    template.pk = 0
    html = template.render_html()
    batch = []
    for n in range(count):
        published_at = START + timedelta(seconds=n)
        batch.append(
            Entry(
                story=story,
                headline=f"Update {n}",
                body="Body.",
                published_at=published_at,
                html=html,
            )
        )
        if len(batch) == 5000:
            Entry.objects.bulk_create(batch)
            batch = []
    Entry.objects.bulk_create(batch)
    Story.objects.filter(pk=story.pk).update(version=count)
    story.version = count
    return story


class Command(BaseCommand):
    help = "Benchmark the story page and the live-updates endpoint; print ratios against goals."

    def add_arguments(self, parser):
        parser.add_argument("--entries", type=int, default=100_000, help="size of the big story")
        parser.add_argument("--requests", type=int, default=300, help="requests per measurement")
        parser.add_argument(
            "--archive",
            action="store_true",
            help="time the staff pages on the demo data and on an archive (1,000,000 entries "
            "on PostgreSQL, 100,000 on SQLite, unless --archive-entries says)",
        )
        parser.add_argument("--archive-entries", type=int, help="entries in the archive")
        stack = parser.add_argument_group(
            "through gunicorn, on the configured database and cache (benchmark_stack.py)"
        )
        stack.add_argument("--gunicorn", action="store_true", help="measure this way instead")
        stack.add_argument("--seconds", type=int, default=5, help="length of a wrk slice")
        stack.add_argument("--rounds", type=int, default=3, help="slices of each URL")
        stack.add_argument("--renders", type=int, default=100, help="cold renders timed")
        stack.add_argument("--port", type=int, default=0, help="gunicorn's (default: any free)")
        stack.add_argument("--threads", type=int, default=2, help="wrk's threads")
        stack.add_argument("--connections", type=int, default=50, help="wrk's connections")

    def handle(self, *args, entries, requests, gunicorn, archive, archive_entries, **options):
        if gunicorn:
            benchmark_stack.run(
                self.stdout,
                **{
                    name: options[name]
                    for name in ("seconds", "rounds", "renders", "port", "threads", "connections")
                },
            )
            return
        old_name = connection.creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False
        )
        try:
            with override_settings(
                ROOT_URLCONF="liveblog.management.benchmark_urls",
                DEBUG=False,
                ALLOWED_HOSTS=["testserver"],
            ):
                if archive:
                    if archive_entries is None:
                        big = connection.vendor == "postgresql"
                        archive_entries = 1_000_000 if big else 100_000
                    archive_bench.run(
                        self.stdout, entries=archive_entries, requests=min(requests, 20)
                    )
                else:
                    self.run(entries, requests)
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)

    def run(self, entries, requests):
        self.stdout.write(f"Building a 100-entry story and a {entries:,}-entry story…")
        small = make_story("small", 100)
        big = make_story("big", entries)
        # Fresh planner statistics, as autovacuum keeps them in production: without them
        # PostgreSQL plans a 100,000-row story as if it were empty.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        deep = Entry.objects.filter(story=big).order_by("published_at", "id")[entries // 100]
        # Oldest first, the deep end is the newest: a page just before the last one.
        deep_later = Entry.objects.filter(story=big).order_by("-published_at", "-id")[
            entries // 100
        ]
        client = Client()

        measured = {
            "bare": ("/bare/", 200, False),
            "small_render": (small.get_absolute_url(), 200, True),
            "big_render": (big.get_absolute_url(), 200, True),
            "big_page": (big.get_absolute_url(), 200, False),
            "deep_page": (f"{big.get_absolute_url()}?before={deep.cursor}", 200, False),
            "oldest_render": (f"{big.get_absolute_url()}?order=oldest", 200, True),
            "oldest_deep_page": (
                f"{big.get_absolute_url()}?order=oldest&after={deep_later.cursor}",
                200,
                False,
            ),
            "poll_304": (f"/stories/{big.slug}/updates/{big.version}/", 304, False),
            "poll_no_change": (f"/stories/{big.slug}/updates/{big.version}/", 200, False),
        }
        median = time_urls(client, measured, requests, big)
        # The same cached answers from a cache private to this process, which would be
        # wrong with several processes: what sharing the cache costs.
        shared = {name: measured[name] for name in ("big_page", "poll_304", "poll_no_change")}
        with override_settings(CACHES=PRIVATE_CACHE):
            private = time_urls(client, shared, requests, big)
        saves = time_saves(small, requests // 5)
        bare, small_render, big_render = (
            median["bare"],
            median["small_render"],
            median["big_render"],
        )
        big_page, deep_page, poll_304 = median["big_page"], median["deep_page"], median["poll_304"]
        poll_no_change = median["poll_no_change"]

        rows = [
            (
                "story page rendering, 100,000-entry / 100-entry story (time)",
                big_render / small_render,
                "≤ 1.1",
            ),
            ("304 poll / bare Django view (throughput)", bare / poll_304, "≥ 0.9"),
            ("'no change' poll (200) / bare Django view (throughput)", bare / poll_no_change, ""),
            (
                "first page, rendered once per version / bare view (throughput)",
                bare / big_page,
                "≥ 0.5",
            ),
            (
                "first page, rendered on every request / bare view (throughput)",
                bare / big_render,
                "",
            ),
            (
                "older page deep in the story / first page rendering (time)",
                deep_page / big_render,
                "≤ 1.5",
            ),
            (
                "oldest-first page deep in the story / first page rendering (time)",
                median["oldest_deep_page"] / big_render,
                "≤ 1.5",
            ),
            (
                "oldest-first first page / newest-first first page, rendering (time)",
                median["oldest_render"] / big_render,
                "≤ 1.5",
            ),
            (
                "304 poll, shared cache / process-private cache (time)",
                poll_304 / private["poll_304"],
                "",
            ),
            (
                "first page, shared cache / process-private cache (time)",
                big_page / private["big_page"],
                "",
            ),
            (
                "save with a hanging purge endpoint / without one (time)",
                saves["hanging purge endpoint"][0] / saves["no purge URL"][0],
                "",
            ),
        ]
        self.stdout.write(
            f"\nBest of 3 medians of {requests} requests each, database: {connection.vendor}"
        )
        self.stdout.write(
            f"  bare view {bare * 1e6:.0f} µs, first page {big_page * 1e6:.0f} µs "
            f"({big_render * 1e6:.0f} µs rendering), deep page {deep_page * 1e6:.0f} µs, "
            f"oldest-first deep page {median['oldest_deep_page'] * 1e6:.0f} µs, "
            f"304 poll {poll_304 * 1e6:.0f} µs"
        )
        self.stdout.write(
            f"  cache: {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}; "
            f"a process-private one: 304 poll {private['poll_304'] * 1e6:.0f} µs, "
            f"first page {private['big_page'] * 1e6:.0f} µs"
        )
        for name, (median_save, slowest) in saves.items():
            verdict = "met" if slowest < 0.05 else "MISSED"
            self.stdout.write(
                f"  save, {name}: median {median_save * 1e3:.1f} ms, slowest "
                f"{slowest * 1e3:.1f} ms (goal: under 50 ms) {verdict}"
            )
        for label, ratio, goal in rows:
            verdict = ""
            if goal:
                bound = float(goal.split()[1])
                verdict = (
                    "met"
                    if (ratio <= bound if goal.startswith("≤") else ratio >= bound)
                    else "MISSED"
                )
            self.stdout.write(
                f"  {label:66} {ratio:5.2f}  {'goal ' + goal if goal else '':11} {verdict}"
            )
