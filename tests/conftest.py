import pytest
from django.contrib.auth.models import Group

from liveblog.roles import EDITORS, REPORTERS

from .factories import PersonFactory, StoryFactory, UserFactory


def _staff(username, role):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    PersonFactory(name=username.title(), slug=username, user=user)
    return user


@pytest.fixture
def editor(db):
    return _staff("editor", EDITORS)


@pytest.fixture
def reporter(db):
    return _staff("reporter", REPORTERS)


@pytest.fixture
def other_reporter(db):
    return _staff("other-reporter", REPORTERS)


@pytest.fixture
def story(db):
    return StoryFactory()


# Lines a test module leaves for the closing summary of the run (what the fuzz test tried).
SUMMARY = pytest.StashKey[list]()


def pytest_terminal_summary(terminalreporter, config):
    for line in config.stash.get(SUMMARY, []):
        terminalreporter.write_line(line)


FILE_CACHE = "django.core.cache.backends.filebased.FileBasedCache"


@pytest.fixture(scope="session", autouse=True)
def _private_cache_dir(tmp_path_factory):
    """Keep the suite out of the developer's var/cache: a server running from the
    checkout would read the tests' story versions, and the tests its. Redis
    (REDIS_URL) is left as configured: CI gives the suite a database of its own."""
    from django.conf import settings
    from django.test import override_settings

    default = settings.CACHES["default"]
    if default["BACKEND"] != FILE_CACHE:
        yield
        return
    location = str(tmp_path_factory.mktemp("cache"))
    caches = {**settings.CACHES, "default": {**default, "LOCATION": location}}
    # The same directory for the manage.py commands that tests run in subprocesses.
    with pytest.MonkeyPatch.context() as env, override_settings(CACHES=caches):
        env.setenv("CACHE_DIR", location)
        yield


@pytest.fixture(autouse=True)
def _clear_cache(_private_cache_dir):
    from django.core.cache import cache

    from liveblog.changes import forget_recent_versions

    cache.clear()
    forget_recent_versions()


class Clock:
    """A settable stand-in for django.utils.timezone.now."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, **delta):
        from datetime import timedelta

        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    from django.utils import timezone

    fake = Clock(timezone.now())
    monkeypatch.setattr(timezone, "now", fake)
    return fake


@pytest.fixture(autouse=True)
def _no_purge_thread(settings):
    # A thread of its own would send purges from outside the test's transaction; tests
    # call purge.send_due() instead (and turn it on to test the thread itself).
    settings.LIVEBLOG_PURGE_IN_PROCESS = False
    # Likewise renditions: tests call renditions.make_due().
    settings.LIVEBLOG_RENDITIONS_IN_PROCESS = False


@pytest.fixture(autouse=True)
def _second_factor_off(settings):
    # Most tests sign staff in with force_login, a session without a second factor;
    # tests/test_second_factor.py turns the rule on (it is on whenever DEBUG is off).
    settings.STAFF_REQUIRE_2FA = False
