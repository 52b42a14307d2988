"""`benchmark --gunicorn`: the public views measured through the production stack.

gunicorn started with gunicorn.conf.py and DEBUG off, on the configured database (a
throwaway one beside it) and cache (DATABASE_URL, REDIS_URL), loaded by wrk in
alternating slices: a bare view served by the same gunicorn and middleware, then a
measured URL, then the bare view again... so that a busy moment of a shared machine
weighs on both sides of each ratio. The in-process benchmark (commands/benchmark.py)
measures the views alone; this one adds what production adds: HTTP parsing, worker
processes and threads, the round trips to PostgreSQL and Redis.
"""

import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.management import CommandError
from django.db import connection
from django.db.models import F
from django.test import Client, override_settings

from liveblog import changes
from liveblog.models import Entry, KeyPoint, Person, Story

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2020, 1, 6, 21, 0, tzinfo=UTC)
# What a live update looks like: a dateline, three paragraphs, emphasis and a link.
BODY = (
    "Iran fired more than a dozen **ballistic missiles** at two bases in Iraq that house "
    "American troops, the Pentagon said, in what Iranian state media called retaliation "
    "for the killing of Maj. Gen. Qassim Suleimani.\n\n"
    "The missiles struck Al Asad Air Base in western Iraq and a base near Erbil, a "
    "[Defense Department statement](https://www.defense.gov/) said. There was no word "
    "of casualties, and officials said they were still assessing the damage.\n\n"
    "*President Trump was briefed* and was monitoring the situation closely with his "
    "national security team, the White House press secretary said."
)
GOALS = {"poll_304": 0.9, "page": 0.5, "cold_ms": 5.0}
# Enough for a first page (LIVEBLOG_PAGE_SIZE, 30) and older pages below it.
ENTRIES = 100


def server_cpu_seconds(pid):
    """CPU time (user and system) gunicorn's master ``pid`` and its workers have used, or
    None where /proc does not say (not Linux)."""
    try:
        workers = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ticks = 0
        for each in [pid, *workers]:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    except (OSError, ValueError):
        return None
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(server, url, seconds, headers, threads, connections):
    """(requests per second, gunicorn's CPU seconds per request) of a wrk slice. The CPU
    figure holds on a busy machine, where throughput is what the other processes leave."""
    before = server_cpu_seconds(server.pid)
    rate, count = wrk_requests_per_second(url, seconds, headers, threads, connections)
    after = server_cpu_seconds(server.pid)
    return rate, None if before is None or after is None else (after - before) / count


def wrk_requests_per_second(url, seconds, headers, threads, connections):
    """Requests per second, and requests, wrk got from ``url`` in ``seconds``; raises
    CommandError when any answer was an error (a ratio of failures would measure
    nothing). A slow answer is not one: on a busy machine wrk's default 2 s timeout
    would count it."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(  # noqa: S603 - our own arguments
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses|Socket errors", output)
    if errors:
        raise CommandError(f"wrk got errors from {url}:\n{output}")
    count = int(re.search(r"(\d+) requests in", output).group(1))
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)), count


def get(port, path, headers=None):
    """(status, body) of one GET, on a connection of its own."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_story(slug, count):
    """A live story of ``count`` entries as reporters post them (1 or 2 bylines each,
    rendered by the change pipeline), and three key points."""
    people = [
        Person.objects.create(name=f"Reporter {slug} {n}", slug=f"{slug}-reporter-{n}")
        for n in range(4)
    ]
    with changes.batch():
        story = Story.objects.create(
            headline="Iran strikes back: live updates",
            slug=slug,
            status=Story.Status.LIVE,
            lede="Iran fired missiles at bases housing U.S. troops.\n\nFollow along.",
        )
        for n in range(count):
            entry = Entry.objects.create(
                story=story,
                headline=f"Update {n}: missiles strike bases in Iraq",
                dateline="WASHINGTON",
                body=BODY,
                published_at=START + timedelta(minutes=n),
            )
            entry.authors.set(people[n % 4 : n % 4 + 1 + n % 2])
        for n in range(3):
            KeyPoint.objects.create(story=story, text=f"Key point {n} of what we know.")
    story.refresh_from_db()
    return story


@contextmanager
def gunicorn(port, database_name, workdir):
    """gunicorn.conf.py's server on ``port``, DEBUG off, the benchmark's URL table."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "liveblog.management.benchmark_settings",
        "BENCHMARK_DATABASE_NAME": database_name,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on loopback, as behind a proxy that terminates TLS.
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "STATIC_ROOT": str(workdir / "static"),
        "LIVEBLOG_PURGE_URL": "",
        "BIND": f"127.0.0.1:{port}",
        "GUNICORN_ACCESS_LOG": str(workdir / "access.log"),
    }
    python = Path(sys.executable)
    subprocess.run(  # noqa: S603 - our own arguments
        [python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    log = open(workdir / "gunicorn.log", "w")  # noqa: SIM115 - open while it runs
    server = subprocess.Popen(  # noqa: S603 - our own arguments
        [python.with_name("gunicorn"), "-c", "gunicorn.conf.py", "newsroom.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if get(port, "/bare/")[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise CommandError(f"gunicorn did not start: see {workdir / 'gunicorn.log'}")
            time.sleep(0.2)
        yield server
    finally:
        server.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        server.wait(30)
        log.close()


# What makes the first page cold: a change (the version bumped and published, as the
# change pipeline does after a post) or an eviction (the version gone from the cache, as
# when it expires, is evicted or the cache restarts: the view then caches it again and
# checks the database once more, see changes.remember_version).
COLD_CAUSES = ("change", "eviction")


def time_cold_renders(slug, count):
    """For each of COLD_CAUSES, the median time and CPU time (s) of a request for the
    first page that renders it; and the page's size."""
    client = Client()
    story_id = Story.objects.values_list("pk", flat=True).get(slug=slug)
    medians = {}
    with override_settings(
        DEBUG=False, ROOT_URLCONF="liveblog.management.benchmark_urls", ALLOWED_HOSTS=["*"]
    ):
        for cause in COLD_CAUSES:
            times, cpu_times = [], []
            for n in range(count + count // 5):  # the first fifth warms up
                if cause == "change":
                    Story.objects.filter(pk=story_id).update(version=F("version") + 1)
                    changes.publish_versions([story_id])
                else:
                    cache.delete(changes.version_key(slug))
                started, cpu_started = time.perf_counter(), time.process_time()
                response = client.get(f"/stories/{slug}/")
                elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
                if response.status_code != 200:
                    raise CommandError(f"the first page answered {response.status_code}")
                if n >= count // 5:
                    times.append(elapsed)
                    cpu_times.append(cpu)
            medians[cause] = (statistics.median(times), statistics.median(cpu_times))
    return medians, len(response.content)


def run(stdout, *, seconds, rounds, renders, port, threads, connections):
    if not shutil.which("wrk"):
        raise CommandError("the gunicorn benchmark needs wrk: apt-get install wrk")
    workdir = Path(tempfile.mkdtemp(prefix="newsroom-bench-"))
    if connection.vendor == "sqlite":
        # gunicorn's workers must open the same database: a file, not SQLite's memory.
        connection.settings_dict["TEST"]["NAME"] = str(workdir / "benchmark.sqlite3")
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    # A slug of its own: the cache may hold keys of other runs and of the site itself.
    # Its keys here expire by themselves (the version in a minute, pages in ten).
    slug = f"benchmark-{secrets.token_hex(4)}"
    try:
        stdout.write(f"Building a {ENTRIES}-entry story in {connection.settings_dict['NAME']}…")
        story = make_story(slug, ENTRIES)
        cold = time_cold_renders(slug, renders)
        story.refresh_from_db()  # the changes timed published new versions
        port = port or free_port()
        with gunicorn(port, connection.settings_dict["NAME"], workdir) as server:
            results = load(stdout, server, port, story, seconds, rounds, threads, connections)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(workdir, ignore_errors=True)
    report(stdout, results, cold, seconds, rounds, threads, connections)


def load(stdout, server, port, story, seconds, rounds, threads, connections):
    base = f"http://127.0.0.1:{port}"
    etag = f'"{story.version}-{story.version}"'
    measured = {
        "poll_304": (f"/stories/{story.slug}/updates/{story.version}/", {"If-None-Match": etag}),
        "page": (f"/stories/{story.slug}/", {}),
    }
    status, _ = get(port, measured["poll_304"][0], measured["poll_304"][1])
    if status != 304:
        raise CommandError(f"the poll at the current version answered {status}, not 304")
    # Every worker renders the page once, caches the version and loads its templates.
    for path, headers in [("/bare/", {}), *measured.values()]:
        wrk_requests_per_second(base + path, 2, headers, threads, connections)
    stdout.write(
        f"Measuring: {rounds} rounds of {seconds} s slices, the bare view before each URL…"
    )
    served = {"bare": [], "poll_304": [], "page": []}
    for _ in range(rounds):
        for name, (path, headers) in measured.items():
            served["bare"].append(
                measure(server, base + "/bare/", seconds, {}, threads, connections)
            )
            served[name].append(
                measure(server, base + path, seconds, headers, threads, connections)
            )
    return served


def report(stdout, served, cold, seconds, rounds, threads, connections):
    cold_medians, page_bytes = cold
    rate = {name: statistics.mean(r for r, _ in slices) for name, slices in served.items()}
    cpu = {name: [c for _, c in slices] for name, slices in served.items()}
    workers = os.environ.get("WEB_CONCURRENCY", "CPUs × 2 + 1")
    stdout.write(
        f"\nThrough gunicorn (gunicorn.conf.py, {workers} workers), DEBUG off, database: "
        f"{connection.vendor}, cache: {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}"
    )
    stdout.write(
        f"  wrk: {threads} threads, {connections} connections, {rounds} rounds of {seconds} s "
        f"slices; requests/s: bare view {rate['bare']:.0f}, 304 poll {rate['poll_304']:.0f}, "
        f"first page from the app's cache {rate['page']:.0f} ({page_bytes / 1000:.0f} KB)"
    )
    # The bare view's slices alternate: before a 304 slice, before a page slice.
    for name, bare in (("poll_304", served["bare"][0::2]), ("page", served["bare"][1::2])):
        ratios = (f"{r / b:.2f}" for (r, _), (b, _) in zip(served[name], bare, strict=True))
        stdout.write(f"  {name} / the bare slice before it, each round: {' '.join(ratios)}")
    if None not in cpu["bare"] + cpu["poll_304"] + cpu["page"]:
        per_request = {name: statistics.mean(values) for name, values in cpu.items()}
        stdout.write(
            "  gunicorn's CPU per request: "
            + ", ".join(f"{name} {value * 1e6:.0f} µs" for name, value in per_request.items())
            + "; bare / 304 poll "
            + f"{per_request['bare'] / per_request['poll_304']:.2f}, bare / first page "
            + f"{per_request['bare'] / per_request['page']:.2f} (what the ratios would be "
            + "with the CPU to itself)"
        )
    for cause, (cold_time, cold_cpu) in cold_medians.items():
        stdout.write(
            f"  cold render after {'a' if cause == 'change' else 'an'} {cause}: median "
            f"{cold_time * 1e3:.2f} ms, of which {cold_cpu * 1e3:.2f} ms of this process's CPU"
        )
    rows = [
        ("P3  304 poll / bare view (throughput)", rate["poll_304"] / rate["bare"], "≥", "poll_304"),
        (
            "P4  first page from the app's cache / bare view (throughput)",
            rate["page"] / rate["bare"],
            "≥",
            "page",
        ),
        *(
            (
                f"cold render of the first page ({settings.LIVEBLOG_PAGE_SIZE} entries) "
                f"after {'a' if cause == 'change' else 'an'} {cause}, median ms",
                cold_time * 1e3,
                "≤",
                "cold_ms",
            )
            for cause, (cold_time, _cpu) in cold_medians.items()
        ),
    ]
    for label, value, sense, goal in rows:
        met = value >= GOALS[goal] if sense == "≥" else value <= GOALS[goal]
        stdout.write(
            f"  {label:66} {value:5.2f}  goal {sense} {GOALS[goal]:<4} {'met' if met else 'MISSED'}"
        )
