"""Backups of everything the newsroom wrote: one tar archive holding the database (SQLite
through its online backup API, PostgreSQL through ``pg_dump`` in its custom format), the
media files, and a manifest (rows per model, a SHA-256 per file) that a restore checks.

``manage.py backup`` and ``manage.py restore`` (``make backup``, ``make restore``) are
thin wrappers around ``backup_create`` and ``backup_restore``.
"""

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from django.apps import apps
from django.conf import settings
from django.db import connections
from django.utils import timezone

MANIFEST = "manifest.json"
MEDIA = "media"
SQLITE = "django.db.backends.sqlite3"
POSTGRESQL = "django.db.backends.postgresql"
DUMPS = {SQLITE: "database.sqlite3", POSTGRESQL: "database.pgdump"}
# PostgreSQL's own client programs, from PATH (the version that matches the server's).
PG_DUMP, PG_RESTORE = "pg_dump", "pg_restore"


class BackupError(Exception):
    """A backup or restore that cannot go on, with the reason an operator reads."""


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def model_counts(using="default"):
    """Rows per model, "app_label.Model": what a restore must find again."""
    return {
        model._meta.label: model._base_manager.using(using).count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


def _engine(connection):
    engine = connection.settings_dict["ENGINE"]
    if engine not in DUMPS:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {engine}.")
    return engine


def _pg_environment(connection):
    """pg_dump's and pg_restore's connection, from Django's, through libpq's variables
    (a password never appears on a command line)."""
    params = connection.get_connection_params()
    env = dict(os.environ)
    for key, variable in (
        ("host", "PGHOST"),
        ("port", "PGPORT"),
        ("user", "PGUSER"),
        ("password", "PGPASSWORD"),
        ("dbname", "PGDATABASE"),
    ):
        if params.get(key):
            env[variable] = str(params[key])
    return env


def _dump_database(connection, path):
    if _engine(connection) == SQLITE:
        # The online backup API, in one step: one read transaction, a consistent
        # snapshot, while other processes go on writing (WAL: readers never block
        # writers). Copied in several steps, it would start again after every write
        # from another connection, and never end on a busy desk. It works on Django's
        # own connection, so an in-memory database (the tests') is backed up the same way.
        connection.ensure_connection()
        target = sqlite3.connect(path)
        try:
            with target:
                connection.connection.backup(target)
        finally:
            target.close()
    else:
        subprocess.run(  # noqa: S603
            [PG_DUMP, "--format=custom", "--no-owner", "--no-privileges", f"--file={path}"],
            env=_pg_environment(connection),
            check=True,
            capture_output=True,
        )


def backup_create(*, directory, using="default"):
    """Write a backup archive into ``directory`` and return its path.

    The counts are read before the dump: on a live site a row saved in between is in the
    dump but not counted, and the restore, which compares its own counts with the
    manifest's, reports it rather than passing silently."""
    connection = connections[using]
    engine = _engine(connection)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    final = directory / f"newsroom-{stamp}.tar"
    media_root = Path(settings.MEDIA_ROOT)
    counts = model_counts(using)
    with tempfile.TemporaryDirectory(dir=directory) as work:
        dump = Path(work) / DUMPS[engine]
        _dump_database(connection, dump)
        files = {}
        if media_root.is_dir():
            for path in sorted(media_root.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    files[path.relative_to(media_root).as_posix()] = sha256(path)
        manifest = {
            "created_at": timezone.now().isoformat(),
            "engine": engine,
            "database": {"file": dump.name, "sha256": sha256(dump)},
            "counts": counts,
            "media": files,
        }
        partial = Path(work) / final.name
        with tarfile.open(partial, "w") as archive:
            data = json.dumps(manifest, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(timezone.now().timestamp())
            archive.addfile(info, io.BytesIO(data))
            archive.add(dump, dump.name)
            for name in files:
                archive.add(media_root / name, f"{MEDIA}/{name}")
        # Renamed into place only when whole: a crash never leaves half an archive
        # looking like a backup.
        os.replace(partial, final)
    os.chmod(final, 0o600)
    return final


def _is_empty(connection):
    with connection.cursor() as cursor:
        return not connection.introspection.table_names(cursor)


def _safe_member(member):
    path = PurePosixPath(member.name)
    return member.isfile() and not path.is_absolute() and ".." not in path.parts


def backup_restore(*, archive, using="default"):
    """Restore ``archive`` into the empty database ``using`` and the empty MEDIA_ROOT,
    checking every file's checksum and every model's row count against the manifest.
    Return the manifest."""
    connection = connections[using]
    engine = _engine(connection)
    media_root = Path(settings.MEDIA_ROOT)
    if not _is_empty(connection):
        raise BackupError(
            f"The database {connection.settings_dict['NAME']} is not empty: restore into a "
            "new, empty database (DATABASE_URL)."
        )
    if media_root.exists() and any(media_root.iterdir()):
        raise BackupError(f"The media folder {media_root} is not empty (MEDIA_ROOT).")
    with tarfile.open(archive) as tar, tempfile.TemporaryDirectory() as work:
        manifest = json.load(tar.extractfile(MANIFEST))
        if manifest["engine"] != engine:
            raise BackupError(
                f"This backup is of a {manifest['engine']} database; DATABASE_URL is {engine}."
            )
        members = {m.name: m for m in tar.getmembers() if _safe_member(m)}
        expected = {f"{MEDIA}/{name}" for name in manifest["media"]}
        if missing := expected - set(members):
            raise BackupError(f"The archive lacks {len(missing)} media file(s) of its manifest.")
        tar.extract(members[manifest["database"]["file"]], work, filter="data")
        dump = Path(work) / manifest["database"]["file"]
        if sha256(dump) != manifest["database"]["sha256"]:
            raise BackupError("The database dump does not match its checksum.")
        for name in sorted(expected):
            tar.extract(members[name], work, filter="data")
            if sha256(Path(work) / name) != manifest["media"][name.removeprefix(MEDIA + "/")]:
                raise BackupError(f"{name} does not match its checksum.")
        _load_database(connection, dump)
        media_root.mkdir(parents=True, exist_ok=True)
        for name in sorted(expected):
            target = media_root / name.removeprefix(MEDIA + "/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(work) / name, target)
    counts = model_counts(using)
    differences = {
        label: (count, counts.get(label))
        for label, count in manifest["counts"].items()
        if counts.get(label) != count
    }
    if differences:
        raise BackupError(f"Restored row counts differ from the manifest: {differences}")
    return manifest


def _load_database(connection, dump):
    if _engine(connection) == SQLITE:
        connection.ensure_connection()
        source = sqlite3.connect(dump)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
    else:
        connection.close()
        subprocess.run(  # noqa: S603
            [
                PG_RESTORE,
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={connection.settings_dict['NAME']}",
                str(dump),
            ],
            env=_pg_environment(connection),
            check=True,
            capture_output=True,
        )
