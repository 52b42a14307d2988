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

import http.client
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
# settings, see http.public_cache), so by then what the purge was meant to remove has
# expired by itself; a later purge is moot, and retrying forever would only fill the queue.
FIRST_RETRY_SECONDS = 1
LAST_RETRY_SECONDS = 60
MAX_ATTEMPTS = 10
# The longest a worker sleeps while purges wait: other processes queue them too.
POLL_SECONDS = 5
# A claimed purge is someone's to send for this long; if its worker dies meanwhile (a
# process that exits, a recycled gunicorn worker), another sends it after that.
CLAIM_SECONDS = 30


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
            # A key already waiting becomes due now, also while a worker sends it or
            # waits to retry it: the change it purges for came after that send.
            Purge.objects.bulk_create(
                [Purge(key=key, due_at=now, queued_at=now) for key in keys],
                update_conflicts=True,
                unique_fields=["key"],
                update_fields=["due_at", "attempts"],
            )
    except DatabaseError:
        logger.exception("Queueing purges of %s failed", " ".join(keys))
        return
    if settings.LIVEBLOG_PURGE_IN_PROCESS:
        _wake_worker()


def send_due():
    """Send each purge that is due, once, and return when the next one falls due (None
    when none waits). A purge that fails is queued again for later, or given up.

    Any number of workers, in any processes, may run this at once: a worker claims a
    row by moving its due time CLAIM_SECONDS ahead, in an UPDATE that only one of them
    wins, and deletes it once sent. A worker that dies after claiming leaves the row to
    fall due again, so the purge is sent late rather than lost.
    """
    if not settings.LIVEBLOG_PURGE_URL:
        return None
    now = timezone.now()
    due = Purge.objects.filter(due_at__lte=now).order_by("due_at")
    for row in due.values("pk", "key", "attempts", "due_at"):
        claim_until = now + timedelta(seconds=CLAIM_SECONDS)
        claimed = Purge.objects.filter(pk=row["pk"], due_at=row["due_at"]).update(
            due_at=claim_until
        )
        if claimed:
            _send(row, Purge.objects.filter(pk=row["pk"], due_at=claim_until))
    return Purge.objects.aggregate(next_due=Min("due_at"))["next_due"]


def _send(row, claimed):
    """Send one claimed purge. ``claimed`` is its row while nobody queued the key again:
    a key queued during the send stays due, to be sent again."""
    url, key = settings.LIVEBLOG_PURGE_URL, row["key"]
    try:
        request = urllib.request.Request(  # noqa: S310 - a URL from our own settings
            url, method=settings.LIVEBLOG_PURGE_METHOD, headers={"Surrogate-Key": key}
        )
        with urllib.request.urlopen(request, timeout=settings.LIVEBLOG_PURGE_TIMEOUT):  # noqa: S310
            pass
    except (OSError, ValueError, http.client.HTTPException) as error:
        failure = error
    else:
        claimed.delete()
        logger.info("Purged %s at %s", key, url)
        return
    attempts = row["attempts"] + 1
    # Refused, timed out, a 5xx or a garbled answer may pass; a 4xx or a URL urllib
    # cannot use will not.
    lasting = isinstance(failure, ValueError) or (
        isinstance(failure, urllib.error.HTTPError) and failure.code < 500
    )
    if lasting or attempts >= MAX_ATTEMPTS:
        claimed.delete()
        logger.error("Gave up purging %s at %s after %d tries: %s", key, url, attempts, failure)
        return
    delay = min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), LAST_RETRY_SECONDS)
    claimed.update(
        due_at=timezone.now() + timedelta(seconds=delay),
        attempts=attempts,
        last_error=str(failure)[:300],
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
    """Stop this process's worker thread, if one runs, after its current round; return
    it (None when none ran)."""
    global _worker
    with _worker_lock:
        worker, _worker = _worker, None
    if worker is None or not worker.is_alive():
        return None
    worker.stop()
    return worker


def _wake_worker():
    # Only a worker that runs: a short-lived process (a command, a shell) leaves its
    # purges to the app's workers rather than start a thread that dies with it.
    worker = _worker
    if worker is not None and worker.is_alive():
        worker.wake.set()
