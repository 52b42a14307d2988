"""Making photo renditions off the request path.

Scaling a big photo to three widths in two formats takes seconds (a 36-megapixel JPEG:
longer than everything else a publish does), so a publish stores the photo and
answers; the entry shows the photo itself, at its own size so nothing shifts, until
its renditions exist. The queue is the database: entries whose photo has no
renditions yet. After a commit, ``wake()`` rouses this process's worker thread, which
makes them, re-renders the entry and tells open pages (changes.py); every worker also
looks for such entries every POLL_SECONDS, so a photo saved by a command, or by a
process that died meanwhile, is done by another. ``manage.py make_renditions`` does
the same once, for all entries.
"""

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from . import changes

logger = logging.getLogger(__name__)

POLL_SECONDS = 5
# Only recent photos are looked for every round; older ones whose renditions cannot
# be made (a missing file) are left to the command.
RECENT = timedelta(days=1)


def pending(*, recent_only=True):
    """Entries with a photo that has no renditions yet."""
    from .models import Entry, Rendition  # the models import this module's caller

    entries = Entry.objects.exclude(photo="").exclude(photo__in=Rendition.objects.values("source"))
    if recent_only:
        entries = entries.filter(updated_at__gte=timezone.now() - RECENT)
    return entries.select_related("story")


def make_due(*, recent_only=True):
    """Make the renditions of every pending photo, and re-render its entry for readers.
    Returns how many entries got renditions."""
    from .models import Rendition, StoryChange

    done = 0
    for entry in pending(recent_only=recent_only):
        if not Rendition.for_file(entry.photo):
            continue  # the file is missing: the entry keeps its placeholder
        with changes.batch():
            changes.announce(entry.story_id, StoryChange.Kind.ENTRY, render=[entry])
        done += 1
    return done


class Worker(threading.Thread):
    def __init__(self):
        super().__init__(name="rendition-worker", daemon=True)
        self.wake = threading.Event()

    def run(self):
        while True:
            self.wake.clear()
            try:
                make_due()
            except Exception:
                logger.exception("Making renditions failed")
            finally:
                connection.close()
            self.wake.wait(POLL_SECONDS)


_worker = None
_worker_lock = threading.Lock()


def wake():
    """After a commit that saved a photo: have this process's worker make its
    renditions now (starting the worker if it does not run)."""
    global _worker
    if not settings.LIVEBLOG_RENDITIONS_IN_PROCESS:
        return
    with _worker_lock:
        # Not alive also in a forked child (threads do not survive a fork).
        if _worker is None or not _worker.is_alive():
            _worker = Worker()
            _worker.start()
    _worker.wake.set()
