"""The app as a newsroom deploys it, started on loopback for these tests: gunicorn
(several workers) on PostgreSQL and Redis, behind Varnish from Debian's packages; and
two such app servers behind one Varnish that balances between them.

Run with `make test-production` (it sets DATABASE_URL to the machine's PostgreSQL and
REDIS_URL to a Redis of the tests' own, on port 6390, that they stop and start).
Past 300 lines: the processes of two deployments (one app server, and two behind a
balancer) and their faults, started in one place.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings as django_settings
from django.db import connections

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_SECRET = "production-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url, status=200, timeout=20.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == status:
                    return
                last = response.status
        except OSError as error:
            last = getattr(error, "code", error)
            if last == status:
                return
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer {status} in {timeout}s (last: {last})")


def require(program):
    path = shutil.which(program) or (
        f"/usr/sbin/{program}" if os.path.exists(f"/usr/sbin/{program}") else None
    )
    if not path:
        pytest.fail(f"{program} is not installed: .ci/run installs it (apt-get install {program})")
    return path


class Redis:
    """The tests' own Redis, on the port of REDIS_URL, which they may stop and start."""

    def __init__(self, url):
        self.port = urlparse(url).port
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                require("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise AssertionError("redis-server did not start")

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture(scope="session")
def redis_server():
    url = os.environ.get("REDIS_URL", "")
    if not url or urlparse(url).port in (None, 6379):
        pytest.fail(
            "run these with `make test-production`: REDIS_URL must name the tests' own Redis"
        )
    if connections["default"].vendor != "postgresql":
        pytest.fail("run these with `make test-production`: DATABASE_URL must be PostgreSQL")
    redis = Redis(url)
    redis.start()
    yield redis
    redis.stop()


class AppServer:
    """One gunicorn on its own port, as each machine of a deployment runs it."""

    def __init__(self, tmp, name, port, proxy_port, workers):
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = tmp / f"{name}-access.log"
        self.output = tmp / f"{name}.out"
        self.env = app_environment(tmp, port, proxy_port, workers, self.log)
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", "newsroom.wsgi"],
            cwd=ROOT,
            env=self.env,
            stdout=open(self.output, "a"),  # noqa: SIM115 - open while it runs
            stderr=subprocess.STDOUT,
        )

    def stop(self):
        """SIGTERM, as a deployment stops a server: gunicorn finishes what it serves."""
        if self.process:
            self.process.terminate()
            self.process.wait(30)
            self.process = None

    def requests_for(self, prefix):
        """How many requests for paths starting with ``prefix`` this server answered."""
        needle = f'"GET {prefix}'
        if not self.log.exists():
            return 0
        return sum(needle in line for line in self.log.read_text().splitlines())


def app_environment(tmp, port, proxy_port, workers, access_log):
    database = connections["default"].settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        "DEBUG": "false",
        "SECRET_KEY": PRODUCTION_SECRET,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "SECURE_HSTS_SECONDS": "0",
        # The load script's reporters sign in with a password: second factors have tests
        # of their own (test_second_factor.py); these prove caching under faults.
        "STAFF_REQUIRE_2FA": "false",
        "STATIC_ROOT": str(tmp / "static"),
        "MEDIA_ROOT": str(tmp / "media"),
        "LIVEBLOG_POLL_INTERVAL": "1",
        "LIVEBLOG_UPDATES_MAX_AGE": "4",
        "LIVEBLOG_PAGE_MAX_AGE": "4",
        "LIVEBLOG_PURGE_URL": f"http://127.0.0.1:{proxy_port}/",
        "PORT": str(port),
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_THREADS": "4",
        "GUNICORN_ACCESS_LOG": str(access_log),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def collectstatic(env):
    subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def varnish_config(ports):
    """deploy/varnish.vcl filled in as its header says: one app-server block per port."""
    text = (ROOT / "deploy/varnish.vcl").read_text()
    begin = text.index("# BEGIN app servers\n") + len("# BEGIN app servers\n")
    end = text.index("# END app servers")
    block = text[begin:end]
    blocks = "".join(
        block.replace("app1", f"app{number}").replace("BACKEND_PORT", str(port))
        for number, port in enumerate(ports, start=1)
    )
    return text[:begin] + blocks + text[end:]


@contextmanager
def varnish(tmp, proxy_port, app_ports):
    # varnishd reads its files as its own unprivileged user: not under pytest's 0700 tmp.
    varnish_dir = Path(tempfile.mkdtemp(prefix="newsroom-varnish-"))
    varnish_dir.chmod(0o755)
    vcl = varnish_dir / "varnish.vcl"
    vcl.write_text(varnish_config(app_ports))
    proxy = subprocess.Popen(
        [
            require("varnishd"),
            "-F",
            "-n",
            str(tmp / "varnish"),
            "-a",
            f"127.0.0.1:{proxy_port}",
            "-f",
            str(vcl),
            "-s",
            "malloc,64m",
            "-p",
            "default_ttl=0",
        ],
        stdout=open(tmp / "varnish.out", "w"),  # noqa: SIM115 - open while it runs
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{proxy_port}"
    finally:
        proxy.terminate()
        proxy.wait(10)
        shutil.rmtree(varnish_dir, ignore_errors=True)


class Stack:
    def __init__(self, server, proxy):
        self.server = server
        self.app = server.url
        self.proxy = proxy

    def origin_hits(self, path):
        """How many requests for ``path`` reached gunicorn."""
        return self.server.requests_for(f"{path} ")


@pytest.fixture(scope="session")
def stack(django_db_setup, django_db_blocker, redis_server, tmp_path_factory):
    """One gunicorn with 3 workers behind Varnish."""
    tmp = tmp_path_factory.mktemp("stack")
    proxy_port = free_port()
    server = AppServer(tmp, "app", free_port(), proxy_port, workers=3)
    collectstatic(server.env)
    server.start()
    try:
        with varnish(tmp, proxy_port, [server.port]) as proxy:
            wait_for(f"{server.url}/healthz")
            wait_for(f"{proxy}/healthz")
            yield Stack(server, proxy)
    finally:
        server.stop()


class Balanced:
    """App servers and the Varnish that balances between them."""

    def __init__(self, servers, proxy, varnish_name):
        self.servers = servers
        self.proxy = proxy
        self.varnish_name = varnish_name

    def varnish_counter(self, name):
        """One of Varnish's counters, as varnishstat shows it (MAIN.fetch_failed)."""
        output = self._varnish("varnishstat", "-1", "-f", name)
        return int(output.split()[1]) if output.strip() else 0

    def set_health(self, backend, health):
        """Override a backend's probe (healthy, sick) or go back to it (auto)."""
        self._varnish("varnishadm", "backend.set_health", backend, health)

    def _varnish(self, program, *args):
        command = [require(program), "-n", str(self.varnish_name), *args]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def two_servers(django_db_setup, django_db_blocker, redis_server, tmp_path_factory):
    """Two gunicorns (2 workers each) on their own ports, as two machines would run them,
    sharing PostgreSQL and Redis, behind one Varnish that balances between them."""
    tmp = tmp_path_factory.mktemp("two-servers")
    proxy_port = free_port()
    servers = [
        AppServer(tmp, f"app{number}", free_port(), proxy_port, workers=2) for number in (1, 2)
    ]
    # Machines each run collectstatic; here they share a disk, and media as on a shared volume.
    collectstatic(servers[0].env)
    try:
        for server in servers:
            server.start()
        with varnish(tmp, proxy_port, [s.port for s in servers]) as proxy:
            for server in servers:
                wait_for(f"{server.url}/healthz")
            wait_for(f"{proxy}/healthz")
            yield Balanced(servers, proxy, tmp / "varnish")
    finally:
        for server in servers:
            server.stop()


def purge_through(settings, proxy):
    # Changes the tests make through the ORM queue purges of the proxy, as the app's own
    # do; the app servers' workers send them, or a test calls purge.send_due().
    settings.LIVEBLOG_PURGE_URL = f"{proxy}/"
    # Sessions made here must be valid there: they are signed with the secret key.
    settings.SECRET_KEY = PRODUCTION_SECRET
    assert (
        django_settings.CACHES["default"]["BACKEND"] == "liveblog.redis_cache.ResilientRedisCache"
    )


@pytest.fixture(autouse=True)
def purge_the_proxy(settings, stack):
    purge_through(settings, stack.proxy)


def start_load(*, base, origin, story, seconds):
    """scripts/loadtest.py for ``seconds``: 40 readers polling through ``base``, two
    reporters posting through ``origin`` every second. Call finish_load on the result."""
    return subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "scripts/loadtest.py"),
            *("--base", base, "--origin", origin, "--story", story.slug),
            *("--username", "reporter", "--password", "correct horse battery staple"),
            *("--readers", "40", "--reporters", "2"),
            *("--seconds", str(seconds), "--post-every", "1"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )


def finish_load(run, *, seconds, title):
    """Wait for a load run, print its report to stderr under ``title``, and return it."""
    output, _ = run.communicate(timeout=seconds + 90)
    report = json.loads(output)
    summary = {k: v for k, v in report.items() if k != "error_log"}
    print(f"\n{title}:", json.dumps(summary), file=sys.stderr)
    return report
