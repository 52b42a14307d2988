"""Tell the caches in front that a story changed.

Public answers carry surrogate keys (``Surrogate-Key`` for Fastly and Varnish,
``Cache-Tag`` for Cloudflare and others): ``story-<slug>`` on everything about one
story, ``stories`` on the lists of stories. After a change commits, its keys are queued
in the database (``queue``); a worker sends a request with LIVEBLOG_PURGE_METHOD to
LIVEBLOG_PURGE_URL for each (``send_due``), retrying while the endpoint fails, so a save
never waits on the network. The worker is a thread in each app process
(LIVEBLOG_PURGE_IN_PROCESS), or ``manage.py send_purges``. With no URL set,
caches simply expire answers after their short lifetimes.
"""

import logging
import threading
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Min
from django.utils import timezone

from .models.purges import Purge

logger = logging.getLogger(__name__)

LISTS_KEY = "stories"

# A failed purge is tried again after 1 s, then 2, 4… up to a minute between tries, ten
# tries in all: about four minutes. Giving up then is right: a cache in front keeps a
# public answer at most s-maxage + stale-while-revalidate (40 s with the default
# settings, see views.cache_control), so by then what the purge was meant to remove has
# expired by itself; a later purge is moot, and retrying forever would only fill the queue.
FIRST_RETRY_SECONDS = 1
LAST_RETRY_SECONDS = 60
MAX_ATTEMPTS = 10
# The longest a worker sleeps while purges wait: other processes queue them too.
POLL_SECONDS = 5


def story_key(slug):
    return f"story-{slug}"


def tag(response, *keys):
    response["Surrogate-Key"] = response["Cache-Tag"] = " ".join(keys)
    return response


def queue(*keys):
    """Queue a purge of each key for the worker to send; call it after the change commits.

    Returns without touching the network and never raises. A key already waiting is not
    queued again; past LIVEBLOG_PURGE_QUEUE_LIMIT waiting keys, new ones are dropped
    (logged) and the caches expire those answers by themselves.
    """
    if not settings.LIVEBLOG_PURGE_URL:
        return
    keys = list(dict.fromkeys(keys))
    try:
        # A savepoint if a caller is inside a transaction: a failure here is not theirs.
        with transaction.atomic():
            # Processes queueing at the same moment can each pass this check, so the
            # queue may pass the limit by their few keys: a bound, not an exact size.
            room = max(settings.LIVEBLOG_PURGE_QUEUE_LIMIT - Purge.objects.count(), 0)
            if room < len(keys):
                waiting = set(Purge.objects.filter(key__in=keys).values_list("key", flat=True))
                new = [key for key in keys if key not in waiting]
                keys, dropped = new[:room], new[room:]
                if dropped:
                    logger.warning("Purge queue is full: dropped %s", " ".join(dropped))
            now = timezone.now()
            Purge.objects.bulk_create(
                [Purge(key=key, due_at=now, queued_at=now) for key in keys], ignore_conflicts=True
            )
    except DatabaseError:
        logger.exception("Queueing purges of %s failed", " ".join(keys))
        return
    if settings.LIVEBLOG_PURGE_IN_PROCESS:
        _wake_worker()


def send_due():
    """Send each purge that is due, once, and return when the next one falls due (None
    when none waits). A purge that fails is queued again for later, or given up.

    Any number of workers, in any processes, may run this at once: a row belongs to the
    one whose DELETE removed it, so each queued key is sent once. A worker that dies
    between the DELETE and the request loses that purge; the caches expire it instead.
    """
    due = Purge.objects.filter(due_at__lte=timezone.now()).order_by("due_at")
    for row in due.values("pk", "key", "attempts", "queued_at"):
        deleted, _ = Purge.objects.filter(pk=row["pk"]).delete()
        if deleted:
            _send(row)
    return Purge.objects.aggregate(next_due=Min("due_at"))["next_due"]


def _send(row):
    url, key = settings.LIVEBLOG_PURGE_URL, row["key"]
    try:
        request = urllib.request.Request(  # noqa: S310 - a URL from our own settings
            url, method=settings.LIVEBLOG_PURGE_METHOD, headers={"Surrogate-Key": key}
        )
        with urllib.request.urlopen(request, timeout=settings.LIVEBLOG_PURGE_TIMEOUT):  # noqa: S310
            pass
    except (OSError, ValueError) as error:
        failure = error
    else:
        logger.info("Purged %s at %s", key, url)
        return
    attempts = row["attempts"] + 1
    # Refused, timed out or a 5xx may pass; a 4xx or a URL urllib cannot use will not.
    lasting = isinstance(failure, ValueError) or (
        isinstance(failure, urllib.error.HTTPError) and failure.code < 500
    )
    if lasting or attempts >= MAX_ATTEMPTS:
        logger.error("Gave up purging %s at %s after %d tries: %s", key, url, attempts, failure)
        return
    delay = min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), LAST_RETRY_SECONDS)
    # A conflict means the key was queued again meanwhile: that row will purge it.
    Purge.objects.bulk_create(
        [
            Purge(
                key=key,
                due_at=timezone.now() + timedelta(seconds=delay),
                attempts=attempts,
                queued_at=row["queued_at"],
                last_error=str(failure)[:300],
            )
        ],
        ignore_conflicts=True,
    )
    logger.warning("Purging %s at %s failed, retrying in %d s: %s", key, url, delay, failure)


class Worker(threading.Thread):
    """Sends purges as they fall due, whichever process queued them, until stopped.

    With nothing queued it sleeps ``idle`` seconds, or until woken when ``idle`` is None.
    """

    def __init__(self, *, idle):
        super().__init__(name="purge-worker", daemon=True)
        self.idle = idle
        self.wake = threading.Event()
        self.stopping = False

    def run(self):
        while not self.stopping:
            # Cleared before the round, so a purge queued during it starts another.
            self.wake.clear()
            next_due = self.send_round()
            if next_due is None:
                timeout = self.idle
            else:
                until_due = (next_due - timezone.now()).total_seconds()
                timeout = min(max(until_due, 0), POLL_SECONDS)
            self.wake.wait(timeout)

    def send_round(self):
        try:
            return send_due()
        except Exception:
            # A worker that died would leave purges waiting; try again in a while.
            logger.exception("Sending purges failed")
            return timezone.now() + timedelta(seconds=POLL_SECONDS)
        finally:
            # Not held while sleeping, and a broken one is not used again.
            connection.close()

    def stop(self):
        """Stop after the current round, and wait for it to end."""
        self.stopping = True
        self.wake.set()
        self.join()


_worker = None
_worker_lock = threading.Lock()


def start_worker():
    """Start this process's worker thread unless it runs. gunicorn starts one in each of
    its workers (gunicorn.conf.py), so purges queued by short-lived processes, such as a
    management command, go out within POLL_SECONDS."""
    global _worker
    if not (settings.LIVEBLOG_PURGE_URL and settings.LIVEBLOG_PURGE_IN_PROCESS):
        return None
    with _worker_lock:
        # Not alive also in a forked child (threads do not survive a fork), or if it died.
        if _worker is None or not _worker.is_alive():
            _worker = Worker(idle=POLL_SECONDS)
            _worker.start()
    return _worker


def stop_worker():
    """Stop this process's worker thread, if one runs, after its current round."""
    global _worker
    with _worker_lock:
        worker, _worker = _worker, None
    if worker is not None and worker.is_alive():
        worker.stop()


def _wake_worker():
    worker = start_worker()
    if worker is not None:
        worker.wake.set()
