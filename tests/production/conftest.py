"""The app as a newsroom deploys it, started on loopback for these tests: gunicorn
(several workers) on PostgreSQL and Redis, behind Varnish from Debian's packages.

Run with `make test-production` (it sets DATABASE_URL to the machine's PostgreSQL and
REDIS_URL to a Redis of the tests' own, on port 6390, that they stop and start).
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
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


class Stack:
    def __init__(self, app_port, proxy_port, log):
        self.app = f"http://127.0.0.1:{app_port}"
        self.proxy = f"http://127.0.0.1:{proxy_port}"
        self.log = log

    def origin_hits(self, path):
        """How many requests for ``path`` reached gunicorn."""
        needle = f'"GET {path} '
        return sum(needle in line for line in self.log.read_text().splitlines())


@pytest.fixture(scope="session")
def stack(django_db_setup, django_db_blocker, redis_server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stack")
    app_port, proxy_port = free_port(), free_port()
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
        "STATIC_ROOT": str(tmp / "static"),
        "MEDIA_ROOT": str(tmp / "media"),
        "LIVEBLOG_POLL_INTERVAL": "1",
        "LIVEBLOG_UPDATES_MAX_AGE": "4",
        "LIVEBLOG_PAGE_MAX_AGE": "4",
        "LIVEBLOG_PURGE_URL": f"http://127.0.0.1:{proxy_port}/",
        "PORT": str(app_port),
        "BIND": f"127.0.0.1:{app_port}",
        "WEB_CONCURRENCY": "3",
        "GUNICORN_THREADS": "4",
        "GUNICORN_ACCESS_LOG": str(tmp / "access.log"),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    app = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", "newsroom.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=open(tmp / "gunicorn.out", "w"),  # noqa: SIM115 - open while it runs
        stderr=subprocess.STDOUT,
    )
    # varnishd reads its files as its own unprivileged user: not under pytest's 0700 tmp.
    varnish_dir = Path(tempfile.mkdtemp(prefix="newsroom-varnish-"))
    varnish_dir.chmod(0o755)
    vcl = varnish_dir / "varnish.vcl"
    vcl.write_text((ROOT / "deploy/varnish.vcl").read_text().replace("BACKEND_PORT", str(app_port)))
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
        wait_for(f"http://127.0.0.1:{app_port}/healthz")
        wait_for(f"http://127.0.0.1:{proxy_port}/healthz")
        yield Stack(app_port, proxy_port, tmp / "access.log")
    finally:
        proxy.terminate()
        app.terminate()
        proxy.wait(10)
        app.wait(20)
        shutil.rmtree(varnish_dir, ignore_errors=True)


@pytest.fixture(autouse=True)
def purge_the_proxy(settings, stack):
    # Changes the tests make through the ORM queue purges of the proxy, as the app's own
    # do; a test that needs them sent calls purge.send_due().
    settings.LIVEBLOG_PURGE_URL = f"{stack.proxy}/"
    # Sessions made here must be valid there: they are signed with the secret key.
    settings.SECRET_KEY = PRODUCTION_SECRET
    assert django_settings.CACHES["default"]["BACKEND"] == "liveblog.cache.ResilientRedisCache"
