import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from liveblog.models import Entry, KeyPoint, Person, Story

pytestmark = pytest.mark.django_db

# The seed story's times and datelines, newest first (../shared/seed/README.md).
SEED = [
    ("12:00 a.m.", "TORONTO"),
    ("11:15 p.m.", "WASHINGTON"),
    ("10:55 p.m.", "WASHINGTON"),
    ("10:35 p.m.", "WASHINGTON"),
    ("10:30 p.m.", "WASHINGTON"),
    ("9:50 p.m.", "WASHINGTON"),
    ("9:30 p.m.", "WASHINGTON"),
    ("9:00 p.m.", "WASHINGTON"),
    ("8:25 p.m.", "WASHINGTON"),
    ("7:50 p.m.", "WASHINGTON"),
    ("5:55 p.m.", "WASHINGTON"),
    ("5:30 p.m.", "WASHINGTON"),
    ("5:00 p.m.", "BRUSSELS"),
    ("4:55 p.m.", "BAGHDAD"),
]


@pytest.fixture(autouse=True)
def _development(settings):
    # The demo loads only on a development machine (pytest-django turns DEBUG off).
    settings.DEBUG = True


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return Story.objects.get(slug="us-iran-iraq-live-updates")


def test_demo_story_renders_the_seed_entries_in_order_with_seed_times(client, demo):
    content = client.get(demo.get_absolute_url()).content.decode()
    shown = re.findall(
        r'<time class="entry-time"[^>]*>([^<]+)</time>.*?<span class="dateline">(\w+) —</span>',
        content,
        re.S,
    )
    assert shown == SEED
    assert content.count("<li>") == 6
    assert "Here are key points of what we know:" in content


def test_demo_loads_twice_without_duplicates(demo):
    counts = (
        Story.objects.count(),
        Entry.objects.count(),
        KeyPoint.objects.count(),
        Person.objects.count(),
    )
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert counts == (
        Story.objects.count(),
        Entry.objects.count(),
        KeyPoint.objects.count(),
        Person.objects.count(),
    )
    assert counts[1:3] == (14, 6)


def test_demo_logins_have_their_roles_and_bylines(demo):
    request = RequestFactory().post("/admin/login/")
    editor = authenticate(request, username="editor", password="demo-editor-2020")
    reporter = authenticate(request, username="reporter", password="demo-reporter-2020")
    assert editor.has_perm("liveblog.change_story")
    assert not reporter.has_perm("liveblog.change_story")
    assert reporter.has_perm("liveblog.add_entry")
    assert reporter.person.slug == "jordan-pike"


def test_rerunning_keeps_what_editors_changed(demo):
    demo.status = Story.Status.ENDED
    demo.save()
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    demo.refresh_from_db()
    assert demo.status == Story.Status.ENDED
    call_command("load_demo", "--reset", stdout=open("/dev/null", "w"))  # noqa: SIM115
    demo.refresh_from_db()
    assert demo.status == Story.Status.LIVE


def test_the_demo_story_was_last_updated_on_the_night(demo):
    local = demo.updated_at.astimezone(demo.tzinfo)
    assert (local.year, local.month, local.day, local.hour) == (2020, 1, 7, 0)


def test_it_refuses_with_debug_off_saying_why(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match=r"DEBUG is off.*passwords.*--force"):
        call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert not Story.objects.exists()
    assert not Person.objects.filter(user__isnull=False).exists()


def test_force_loads_it_with_debug_off(db, settings):
    settings.DEBUG = False
    call_command("load_demo", "--force", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Story.objects.filter(slug="us-iran-iraq-live-updates").exists()


def test_the_readme_names_reset_and_force():
    readme = Path("README.md").read_text()
    assert "load_demo --reset" in readme
    assert "--force" in readme


LOGGERS = ["django.request", "django.server", "liveblog.purge", "axes"]


@pytest.mark.parametrize("debug", ["true", "false"])
def test_each_log_line_is_printed_once(debug):
    # What Django, runserver and the app log, in a process of its own configured by the
    # settings, as the server's is.
    code = f"import logging\nfor n in {LOGGERS!r}: logging.getLogger(n).warning('line-' + n)"
    env = {**os.environ, "DEBUG": debug, "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "localhost"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    output = result.stdout + result.stderr
    assert {name: output.count(f"line-{name}") for name in LOGGERS} == dict.fromkeys(LOGGERS, 1)
