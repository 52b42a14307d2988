"""Nothing the newsroom wrote is lost (issue 19): the restore drill. A story with
entries, revisions, corrections, key points, photos and renditions is backed up, restored
into a fresh database and media folder, and every public page, feed and API answer is
the same, byte for byte but for what depends on the request; every row (revisions and
the editors' log included) and every file is there. Runs on SQLite and, in CI's second
pass, on PostgreSQL (DATABASE_URL): the restore goes to a second database it makes."""

import io
import json
import re
import tarfile
from contextlib import contextmanager

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.test import Client

from liveblog import renditions, services
from liveblog.backups import MANIFEST, model_counts, sha256
from liveblog.images import clean_image
from liveblog.models import AuditEvent, Entry, Rendition

from .conftest import SUMMARY
from .factories import EntryFactory, KeyPointFactory, PersonFactory, StoryFactory
from .test_images import image_bytes, upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def build_newsroom(editor, reporter):
    story = StoryFactory(slug="drill", headline="Strike at the base")
    author = reporter.person
    entries = [EntryFactory(story=story, authors=[author]) for _ in range(4)]
    photo = EntryFactory.build(story=story, photo_alt="Soldiers at the base")
    photo.photo = clean_image(upload("base.jpg", image_bytes(size=(1600, 900))))
    photo.save()
    photo.authors.set([author])
    renditions.make_due(recent_only=False)  # as the app's worker does after the answer
    entries.append(photo)
    newsmaker = PersonFactory(slug="newsmaker")
    entries[0].people.add(newsmaker)
    # Revisions and a correction.
    entries[1].body = "Corrected body."
    entries[1].correction = "An earlier version misstated the time."
    entries[1].save()
    entries[2].headline = "Edited headline"
    entries[2].save()
    draft = EntryFactory(story=story, status=Entry.Status.DRAFT, authors=[author])
    services.entry_set_status(entry=draft, status=Entry.Status.PUBLISHED, user=editor)
    services.entry_set_status(entry=entries[3], status=Entry.Status.DRAFT, user=editor)
    KeyPointFactory(story=story, entry=entries[0])
    services.key_point_add(entry=entries[2], user=editor)
    services.story_pin_entry(story=story, entry=entries[0], user=editor)
    StoryFactory(slug="other-live-story")
    StoryFactory(slug="a-draft", status="draft")
    return story


def public_urls(story):
    entry_ids = Entry.objects.public().filter(story=story).values_list("pk", flat=True)
    return [
        "/",
        f"/stories/{story.slug}/",
        *(f"/stories/{story.slug}/entries/{pk}/" for pk in entry_ids),
        f"/stories/{story.slug}/embed/",
        f"/stories/{story.slug}/updates/0/",
        f"/stories/{story.slug}/feed/rss/",
        f"/stories/{story.slug}/feed/atom/",
        "/feed/rss/",
        "/feed/atom/",
        "/people/newsmaker/",
        f"/people/{story.entries.first().authors.first().slug}/",
        "/api/stories/",
        f"/api/stories/{story.slug}/",
        f"/api/stories/{story.slug}/entries/?limit=100",
        "/sitemap.xml",
        "/robots.txt",
    ]


# What an answer owes the request rather than the database.
PER_REQUEST = [
    (re.compile(rb'nonce="[^"]*"'), b'nonce=""'),
    (re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"'), b'name="csrfmiddlewaretoken"'),
]
PER_REQUEST_HEADERS = {"Date", "Content-Security-Policy", "Set-Cookie", "Expires"}


def answers(urls):
    """Each URL's status, headers and body, from the database: the cache is emptied
    first, so no page comes from what was rendered before the restore."""
    cache.clear()
    client = Client()
    result = {}
    for url in urls:
        response = client.get(url)
        body = response.content
        for pattern, replacement in PER_REQUEST:
            body = pattern.sub(replacement, body)
        headers = {k: v for k, v in response.headers.items() if k not in PER_REQUEST_HEADERS}
        result[url] = (response.status_code, headers, body)
    return result


def every_row():
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


@contextmanager
def fresh_database(directory):
    """Point the default connection at a new, empty database (a file beside SQLite's;
    <name>_restore on PostgreSQL), as DATABASE_URL would on a new machine; dropped
    afterwards."""
    connection = connections["default"]
    name = connection.settings_dict["NAME"]
    sqlite = connection.vendor == "sqlite"
    if sqlite:
        # The test database lives in memory as long as its connection: kept aside.
        kept = connection.connection
        connection.connection = None
        restored = str(directory / "restored.sqlite3")
    else:
        restored = f"{name}_restore"
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{restored}"')
            cursor.execute(f'CREATE DATABASE "{restored}"')
        connection.close()
    connection.settings_dict["NAME"] = restored
    try:
        yield restored
    finally:
        connection.close()
        connection.settings_dict["NAME"] = name
        if sqlite:
            connection.connection = kept
        else:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')


def test_the_restore_drill(request, tmp_path, settings, media, editor, reporter):
    story = build_newsroom(editor, reporter)
    assert Rendition.objects.count() >= 6 and AuditEvent.objects.count() >= 4
    assert Entry.history.model.objects.count() > Entry.objects.count()
    urls = public_urls(story)
    before = answers(urls)
    rows = every_row()
    files = {p.relative_to(media): sha256(p) for p in media.rglob("*") if p.is_file()}

    call_command("backup", directory=str(tmp_path / "backups"), stdout=(out := io.StringIO()))
    archive = out.getvalue().strip()
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile(MANIFEST))
    assert manifest["counts"] == model_counts()
    assert len(manifest["media"]) == len(files)

    settings.MEDIA_ROOT = tmp_path / "restored-media"
    with fresh_database(tmp_path):
        call_command("restore", archive, stdout=io.StringIO())
        after = answers(urls)
        restored_rows = every_row()
        restored_files = {
            p.relative_to(settings.MEDIA_ROOT): sha256(p)
            for p in settings.MEDIA_ROOT.rglob("*")
            if p.is_file()
        }
    assert restored_rows == rows
    assert restored_files == files
    for url in urls:
        assert after[url] == before[url], url
    assert all(status == 200 for status, _, _ in before.values())
    request.config.stash.setdefault(SUMMARY, []).append(
        f"restore drill ({connections['default'].vendor}): {len(urls)} public answers "
        f"identical, {sum(len(r) for r in rows.values())} rows in {len(rows)} tables "
        f"({len(rows['liveblog.HistoricalEntry'])} entry revisions, "
        f"{len(rows['liveblog.AuditEvent'])} audit lines), {len(files)} media files"
    )


def test_restore_refuses_a_database_that_is_not_empty(tmp_path, settings, media, editor):
    call_command("backup", directory=str(tmp_path), stdout=(out := io.StringIO()))
    settings.MEDIA_ROOT = tmp_path / "empty-media"
    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", out.getvalue().strip(), stdout=io.StringIO())


def test_restore_refuses_an_archive_whose_files_do_not_match(tmp_path, settings, media, story):
    photo = EntryFactory.build(story=story, photo_alt="A photo")
    photo.photo = clean_image(upload("a.jpg", image_bytes()))
    photo.save()
    call_command("backup", directory=str(tmp_path), stdout=(out := io.StringIO()))
    archive = out.getvalue().strip()
    tampered = tmp_path / "tampered.tar"
    with tarfile.open(archive) as source, tarfile.open(tampered, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name.startswith("media/"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            target.addfile(member, io.BytesIO(data))
    settings.MEDIA_ROOT = tmp_path / "restored-media"
    with fresh_database(tmp_path), pytest.raises(CommandError, match="checksum"):
        call_command("restore", str(tampered), stdout=io.StringIO())


@pytest.mark.django_db(transaction=False)
def test_a_sqlite_backup_runs_while_another_connection_writes(tmp_path):
    """WAL and the busy timeout (newsroom/settings.py): a backup neither blocks a writer
    nor loses its rows, and copies a consistent snapshot."""
    import sqlite3
    import threading

    from django.db.backends.sqlite3.base import DatabaseWrapper

    from liveblog.backups import _dump_database

    path = tmp_path / "live.sqlite3"
    options = {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    live_db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path), "OPTIONS": options}
    settings_dict = connections.configure_settings({"default": live_db})["default"]
    live = DatabaseWrapper(settings_dict, alias="live")
    with live.cursor() as cursor:
        cursor.execute("CREATE TABLE wire (id INTEGER PRIMARY KEY, body TEXT)")
        cursor.executemany("INSERT INTO wire (body) VALUES (?)", [("x" * 500,)] * 5000)
    errors, written = [], []
    stop = threading.Event()

    def write():
        writer = sqlite3.connect(path, timeout=20)
        writer.execute("PRAGMA synchronous=NORMAL")  # as the app's connections do
        try:
            while not stop.is_set():
                with writer:
                    writer.execute("INSERT INTO wire (body) VALUES ('news')")
                written.append(1)
                stop.wait(0.002)  # a busy desk, not a benchmark
        except sqlite3.Error as error:
            errors.append(error)
        finally:
            writer.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while len(written) < 20:
            stop.wait(0.01)
        during = len(written)
        _dump_database(live, tmp_path / "copy.sqlite3")
        after = len(written)
        # The writer goes on after the backup as before it: nothing was left locked.
        for _ in range(1000):
            if len(written) >= after + 20:
                break
            stop.wait(0.01)
    finally:
        stop.set()
        thread.join()
        live.close()
    assert errors == []
    assert len(written) >= after + 20
    copy = sqlite3.connect(tmp_path / "copy.sqlite3")
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    copied = copy.execute("SELECT count(*) FROM wire").fetchone()[0]
    copy.close()
    source = sqlite3.connect(path)
    assert source.execute("SELECT count(*) FROM wire").fetchone()[0] == 5000 + len(written)
    source.close()
    assert 5000 + during <= copied <= 5000 + len(written)
