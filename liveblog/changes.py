"""The change pipeline: how a change to what readers see reaches every reader.

Whatever changes what a reader sees of a story calls ``announce()`` inside the
transaction that makes the change: ``Entry.save()``, ``Story.save()``, ``KeyPoint.save()``
and ``Person.save()`` do, and so do the hooks in ``signals.py`` for what never passes
through a method of ours (deletes, bylines). Announcements are collected in a
``batch()``; when the outermost batch ends, still inside its transaction, each story
touched gets:

1. the stored HTML and structured data of its changed entries rendered again, once per
   entry however often it was announced, and what its pages show besides entries noted
   again (its picture and key points, ``Story.refresh_page_summary``);
2. one version bump and one ``StoryChange`` row naming every kind of change and every
   entry touched (``Story.bump_version``); many entries at once become one "reload";

and once that transaction commits:

3. the shared cache learns the story's new version (``publish_versions``);
4. its surrogate keys are queued for purging (``purge.queue``), sent off the request
   path by a worker.

Outside a batch each announcement is a batch of its own. Admin views, desk actions,
services and commands that change many things open one, so a bulk change is one
version and one purge per story, not one per row.

The shared version
------------------
Pages and polls ask the cache for a story's version (``cached_version``) before the
database. The rule that makes that safe: a version is only ever cached for a public
story, so *a cached version means the story is public*. Every write of the key goes
through this module: ``publish_versions`` after a commit (which deletes the key when
the story is no longer public) and ``remember_version`` after a view read the row. The
key lives at most ``VERSION_LIFETIME`` seconds, so even a change whose after-commit step
was lost (a killed process) reaches readers within that time. The cache must be one that
every process shares (the file-based default, or Redis): see the settings.

One answer may use a version this process read a moment ago (``recent_version``,
at most ``RECENT_SECONDS`` old) rather than asking the shared cache again: the 304 that
tells a reader or a cache that what it holds is current, which shows nothing.
"""

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from time import monotonic

from django.core.cache import cache
from django.db import models, transaction
from django.utils import timezone

from . import purge
from .prepared import Param, PreparedQuery

# A key lives at most this long: the bound on staleness if an after-commit step is lost.
VERSION_LIFETIME = 60
VERSION_KEY_PREFIX = "liveblog:story-version:"
# The version keys, for a cache backend that must forget them all (redis_cache.py).
VERSION_KEY_PATTERN = f"*{VERSION_KEY_PREFIX}*"
# A version this process read from the shared cache may answer a 304 for this long
# (recent_version): well under a poll's cache lifetime and the 2 s freshness promise.
RECENT_SECONDS = 0.5
# A change touching more entries than this tells open pages to reload rather than
# sending them every entry.
MAX_ENTRIES_PER_CHANGE = 50

# The batch being collected on this thread (Django's connections are per thread too).
_local = threading.local()
# Slug -> (version, monotonic() when read from the shared cache), for every thread
# of this process (see recent_version).
_recent_versions = {}


@dataclass
class _StoryChanges:
    kinds: set = field(default_factory=set)
    entry_ids: set = field(default_factory=set)
    # Entry id -> the instance its caller holds, whose ``html`` follows the stored one.
    to_render: dict = field(default_factory=dict)


def announce(story_id, kind, *, entry_ids=(), render=(), seen=True):
    """Tell the readers of story ``story_id`` about a change of ``kind`` (a
    ``StoryChange.Kind``) to ``entry_ids``; the entries in ``render`` changed what their
    stored HTML shows and are rendered again before readers get them.

    ``seen=False`` says readers neither saw nor see what changed (a draft, or an entry
    scheduled for later, before and after): it is rendered and its story's next due
    time noted, but the story's version, "Updated" time and sitemap date stay until the
    entry appears (release_due_entries announces it then).

    Call it inside the transaction that makes the change: readers hear of it when, and
    only if, that transaction commits.
    """
    with batch() as pending:
        changes = pending.setdefault(story_id, _StoryChanges())
        for entry in render:
            changes.to_render[entry.pk] = entry
        if not seen:
            return
        changes.kinds.add(kind)
        changes.entry_ids.update(entry_ids)
        changes.entry_ids.update(entry.pk for entry in render)


@contextmanager
def batch():
    """Collect every announcement made inside the block into one change per story,
    made when the block ends, in one transaction with the block's own changes."""
    pending = getattr(_local, "pending", None)
    if pending is not None:
        yield pending  # an outer batch collects, and makes the change when it ends
        return
    _local.pending = pending = {}
    try:
        with transaction.atomic():
            yield pending
            _make_changes(pending)
    finally:
        _local.pending = None


def _make_changes(pending):
    # Models announce their own changes from save(), so they are imported where used.
    from .models import Entry, Story, StoryChange

    # In id order: each story's row is locked here (refresh_next_due, bump_version), so
    # two batches that touch the same stories lock them in the same order.
    for story_id in sorted(pending):
        changes = pending[story_id]
        story = Story.objects.select_for_update(no_key=True).filter(pk=story_id).first()
        if story is None:
            continue  # deleted in this batch: its readers' pages are gone with it
        now = timezone.now()
        due = story.due_entry_ids(now)
        if due:
            # Scheduled entries came due: announced with this change, whether a reader's
            # request made it for them (release_due_entries) or any other change to the
            # story came first, before the next due time is noted past them.
            changes.kinds.add(StoryChange.Kind.ENTRY)
            changes.entry_ids.update(due)
        story.refresh_next_due(now)
        key_points_shown = story.key_points_shown
        story.refresh_page_summary()
        if story.key_points_shown != key_points_shown:
            # What readers see of the key points changed with this batch: a linked
            # entry appeared or went (a key point links to it only while it is public).
            changes.kinds.add(StoryChange.Kind.KEY_POINTS)
        # Rendered from what the database holds now, not from the instances announced:
        # a savepoint rolled back inside the batch, or the story changed after the
        # entry, must not reach the stored HTML.
        rendered = Entry.objects.filter(story=story, pk__in=changes.to_render)
        for entry in rendered.prefetch_related("authors"):
            entry.story = story
            entry.refresh_html()
            announced = changes.to_render[entry.pk]
            announced.html, announced.structured_data = entry.html, entry.structured_data
        kinds, entry_ids = changes.kinds, changes.entry_ids
        if not kinds:
            continue  # nothing readers see changed (see announce's ``seen``)
        if StoryChange.Kind.RELOAD in kinds or len(entry_ids) > MAX_ENTRIES_PER_CHANGE:
            kinds, entry_ids = {StoryChange.Kind.RELOAD}, set()
        story.bump_version(kinds, entry_ids)
    story_ids = list(pending)
    changed_ids = [story_id for story_id in story_ids if pending[story_id].kinds]
    # Robust: the change is committed by then; a cache or queue that fails is logged,
    # and the version's lifetime bounds what it leaves behind. Stories with only unseen
    # changes are published too: a newly scheduled entry shortens how long their
    # version may stay cached (version_lifetime).
    transaction.on_commit(lambda: publish_versions(story_ids, changed_ids), robust=True)


def publish_versions(story_ids, changed_ids=None):
    """After a commit: cache the committed versions of public stories, forget those of
    the others, and queue the purges of every answer about those in ``changed_ids``
    (all of them when None)."""
    from .models import Story  # see _make_changes

    rows = Story.objects.filter(pk__in=story_ids).values(
        "pk", "slug", "status", "version", "next_due_at"
    )
    keys = []
    for row in rows:
        _recent_versions.pop(row["slug"], None)
        key = version_key(row["slug"])
        if row["status"] in Story.PUBLIC_STATUSES:
            cache.set(key, row["version"], version_lifetime(row["next_due_at"]))
            # Another commit may have read and published a newer version between this
            # one's read and its write: checking after writing means that whichever
            # writes last, an older version does not stay.
            public = Story.objects.public().filter(pk=row["pk"], version=row["version"])
            if not public.exists():
                cache.delete(key)
        else:
            cache.delete(key)
        if changed_ids is None or row["pk"] in changed_ids:
            keys.append(purge.story_key(row["slug"]))
    if keys:
        purge.queue(*keys, purge.LISTS_KEY)


def version_key(slug):
    return f"{VERSION_KEY_PREFIX}{slug}"


def version_lifetime(next_due_at):
    """How long a story's version may stay cached: not past its next scheduled entry,
    whose time must reach the views so they can announce it."""
    if next_due_at is None:
        return VERSION_LIFETIME
    until_due = int((next_due_at - timezone.now()).total_seconds()) + 1
    return max(0, min(VERSION_LIFETIME, until_due))


def cached_version(slug):
    """The story's version as last published, or None. Not None means the story is public."""
    from .models import Story  # see _make_changes

    if len(slug) > Story._meta.get_field("slug").max_length:
        return None  # no story has it, and a key that long is more than some caches take
    version = cache.get(version_key(slug))
    _note_recent(slug, version)
    return version


def cached_version_and(slug, key):
    """``cached_version(slug)`` and the cache's value at ``key``, in one round trip."""
    from .models import Story  # see _make_changes

    if len(slug) > Story._meta.get_field("slug").max_length:
        return None, None
    values = cache.get_many([version_key(slug), key])
    version = values.get(version_key(slug))
    _note_recent(slug, version)
    return version, values.get(key)


def recent_version(slug):
    """The story's version as this process read it from the shared cache at most
    RECENT_SECONDS ago, or None.

    Good only to tell a reader that the version they hold is current (a 304), which
    shows nothing: a story changed or unpublished meanwhile is told so at most
    RECENT_SECONDS late, and what it shows is read through cached_version(). A poll is
    what a crowd of readers asks at once; this spares the shared cache almost all of it.
    """
    seen = _recent_versions.get(slug)
    if seen is None or monotonic() - seen[1] > RECENT_SECONDS:
        return None
    return seen[0]


def _note_recent(slug, version):
    if version is None:
        _recent_versions.pop(slug, None)
    else:
        _recent_versions[slug] = (version, monotonic())


def forget_recent_versions():
    """Forget the versions this process read (tests that start from an empty cache)."""
    _recent_versions.clear()


def remember_version(story):
    """Cache the version of a public ``story`` a view has just read from the database.

    ``add``, not ``set``: a commit may have just published a newer version. And a
    change may have committed since the story was read, its after-commit step clearing
    the key before this adds it back: checking after adding means that whichever comes
    last, the stale version does not stay. When the key was there already (a page
    rendered after a change that published its version), nothing was added and there
    is nothing to check.
    """
    key = version_key(story.slug)
    _recent_versions.pop(story.slug, None)
    if not cache.add(key, story.version, version_lifetime(story.next_due_at)):
        return
    if not STILL_PUBLIC.rows(pk=story.pk, version=story.version):
        cache.delete(key)


def _still_public():
    from .models import Story  # see _make_changes

    pk = Param("pk", models.BigIntegerField())
    version = Param("version", models.BigIntegerField())
    return Story.objects.public().filter(pk=pk, version=version).order_by().values_list("pk")[:1]


# Whether a story is still public at a version (remember_version). A first page rendered
# after its version was evicted asks it, so its SQL is written once (see prepared.py).
STILL_PUBLIC = PreparedQuery(_still_public)


def forget_slug(slug):
    """After a story's address changed or it was deleted: forget its version and purge
    the answers cached under it."""
    _recent_versions.pop(slug, None)
    cache.delete(version_key(slug))
    purge.queue(purge.story_key(slug), purge.LISTS_KEY)
