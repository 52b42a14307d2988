"""Workflows that span several models: posting, publishing decisions, key points, and
the editors' log each of them writes."""

import string

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import Truncator

from . import changes, ratelimit
from .dates import ap_datetime
from .models import AuditEvent, Entry, KeyPoint, Story, Submission


def _quoted(text):
    # A log line's detail holds 300 characters; a headline may have as many, and a
    # scheduled one is followed by its time.
    return f"“{Truncator(text).chars(240)}”"


@changes.batch()
def entry_create(*, entry, user, authors=None):
    """Save the new ``entry`` as made by ``user``, with ``authors`` as its bylines, and
    log it: one change for readers.

    Without ``authors`` the bylines are the caller's to save, inside its own batch (the
    admin saves them after this, with its form's other many-to-many fields).
    """
    entry.created_by = user
    entry.save()
    if authors is not None:
        entry.authors.set(authors)
    entry_audit(entry=entry, user=user)
    return entry


def entry_audit(*, entry, user, old=None):
    """Log a publish, unpublish, draft or schedule decision on ``entry``.

    ``old`` holds the entry's status and time before the change (None for a new entry).
    """
    published = entry.status == Entry.Status.PUBLISHED
    was_published = old is not None and old["status"] == Entry.Status.PUBLISHED
    action = None
    if published and entry.published_at > timezone.now():
        if not was_published or old["published_at"] != entry.published_at:
            action = AuditEvent.Action.SCHEDULED
    elif published and not was_published:
        action = AuditEvent.Action.PUBLISHED
    elif not published and was_published:
        action = AuditEvent.Action.UNPUBLISHED
    elif not published and old is None:
        action = AuditEvent.Action.SAVED_DRAFT
    if action is None:
        return None
    detail = _quoted(entry.headline)
    if action == AuditEvent.Action.SCHEDULED:
        detail += f" for {ap_datetime(entry.published_at, entry.story.tzinfo)}"
    return AuditEvent.objects.create(
        story=entry.story, entry=entry, user=user, action=action, detail=detail
    )


def story_audit(*, story, user, old_status, old_pinned_id):
    """Log a change of the story's status or of its pinned entry."""
    if old_status is not None and old_status != story.status:
        AuditEvent.objects.create(
            story=story,
            user=user,
            action=AuditEvent.Action.STORY_STATUS,
            detail=f"{Story.Status(old_status).label} → {story.get_status_display()}",
        )
    if old_pinned_id != story.pinned_entry_id:
        if old_pinned_id:
            AuditEvent.objects.create(
                story=story, entry_id=old_pinned_id, user=user, action=AuditEvent.Action.UNPINNED
            )
        if story.pinned_entry_id:
            AuditEvent.objects.create(
                story=story,
                entry_id=story.pinned_entry_id,
                user=user,
                action=AuditEvent.Action.PINNED,
                detail=_quoted(story.pinned_entry.headline),
            )


@transaction.atomic
def entry_set_status(*, entry, status, user):
    """Publish or unpublish ``entry`` on an editor's word, and log it."""
    old = {"status": entry.status, "published_at": entry.published_at}
    entry.status = status
    entry.save()
    entry_audit(entry=entry, user=user, old=old)


@changes.batch()
def story_reopen(*, story, user):
    """Make the ended ``story`` live again (its coverage end cleared), and log it."""
    old_status = story.status
    story.status = Story.Status.LIVE
    story.save()
    story_audit(story=story, user=user, old_status=old_status, old_pinned_id=story.pinned_entry_id)


@transaction.atomic
def story_pin_entry(*, story, entry, user):
    """Pin ``entry`` above the story's stream (None unpins), and log it."""
    old_pinned_id = story.pinned_entry_id
    story.pinned_entry = entry
    story.save()
    story_audit(story=story, user=user, old_status=None, old_pinned_id=old_pinned_id)


@changes.batch()
def key_point_add(*, entry, user):
    """Make ``entry``'s headline the last key point of its story, linked to the entry,
    and log it. Returns the key point, or None when the entry already is one."""
    # The story's row lock makes two clicks at once wait for each other: one key point.
    story = Story.objects.select_for_update(no_key=True).get(pk=entry.story_id)
    if story.key_points.filter(entry=entry).exists():
        return None
    last = story.key_points.aggregate(last=Max("position"))["last"] or 0
    point = KeyPoint.objects.create(
        story=story, text=entry.headline, entry=entry, position=last + 1
    )
    _key_point_audit(point, AuditEvent.Action.KEY_POINT_ADDED, user)
    return point


@changes.batch()
def key_point_move(*, point, direction, user):
    """Move ``point`` one place "up" or "down" among its story's key points, renumbering
    them 1, 2, 3 ..., and log it. At either end of the list it stays where it is."""
    if direction not in ("up", "down"):
        raise ValueError(f"A key point moves up or down, not {direction!r}.")
    points = list(point.story.key_points.select_for_update().order_by("position", "id"))
    index = next(i for i, p in enumerate(points) if p.pk == point.pk)
    other = index - 1 if direction == "up" else index + 1
    moved = 0 <= other < len(points)
    if moved:
        points[index], points[other] = points[other], points[index]
    for position, each in enumerate(points, start=1):
        if each.position != position:
            each.position = position
            each.save(update_fields=["position"])
    if moved:
        _key_point_audit(point, AuditEvent.Action.KEY_POINT_MOVED, user, f" {direction}")


@changes.batch()
def key_point_set_pinned(*, point, pinned, user):
    """Pin ``point`` (show it to readers) or unpin it (hide it), and log it."""
    point.pinned = pinned
    point.save()
    action = AuditEvent.Action.KEY_POINT_PINNED if pinned else AuditEvent.Action.KEY_POINT_UNPINNED
    _key_point_audit(point, action, user)


def _key_point_audit(point, action, user, suffix=""):
    AuditEvent.objects.create(
        story_id=point.story_id,
        entry_id=point.entry_id,
        user=user,
        action=action,
        detail=_quoted(point.text) + suffix,
    )


# --- Sign-in ---------------------------------------------------------------------------


def account_audit(*, user, action, detail="", by=None):
    """Log a sign-in, a failed second factor, an enrolment or a reset: a line about no
    story, written by ``by`` (an editor resetting a colleague) or ``user`` themselves."""
    return AuditEvent.objects.create(
        user=by or user, action=action, detail=Truncator(detail).chars(300)
    )


def sessions_end_others(*, user, keep=None):
    """End every session of ``user`` but the one keyed ``keep``; return how many ended.

    Sessions are stored by key, not by user, so each unexpired one is read: a newsroom
    has a few dozen at most, readers have none."""
    from django.contrib.sessions.models import Session

    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now())
        if session.pk != keep and session.get_decoded().get("_auth_user_id") == str(user.pk)
    ]
    Session.objects.filter(pk__in=ended).delete()
    account_audit(
        user=user, action=AuditEvent.Action.SIGNED_OUT_OTHERS, detail=f"{len(ended)} session(s)"
    )
    return len(ended)


@transaction.atomic
def second_factors_reset(*, user, by):
    """Remove every second factor of ``user`` (a lost phone and recovery codes) and end
    their sessions: their next sign-in enrols a new one. Logged as ``by``'s."""
    from django_otp import devices_for_user

    removed = [device for device in devices_for_user(user, confirmed=None)]
    for device in removed:
        device.delete()
    sessions_end_others(user=user)
    account_audit(
        user=user,
        by=by,
        action=AuditEvent.Action.SECOND_FACTOR_RESET,
        detail=f"of {user.get_username()} ({len(removed)} removed)",
    )
    return len(removed)


# --- Readers' questions and tips -------------------------------------------------------


class SubmissionRefused(Exception):
    """A question the story does not take now; the message says why, for the reader."""

    def __init__(self, message, *, status):
        super().__init__(message)
        self.status = status


def submission_create(*, story, text, name, email, address):
    """Queue a reader's question or tip about ``story`` for its desk, or raise
    SubmissionRefused: the story has ended, this address or this story has sent more
    than the settings allow in a window, or the story's queue is full."""
    if not story.is_live:
        raise SubmissionRefused(
            "Coverage of this story has ended: it takes no more questions.", status=403
        )
    window = settings.LIVEBLOG_ASK_WINDOW
    minutes = max(1, window // 60)
    if not ratelimit.allow(
        "ask-address", address, limit=settings.LIVEBLOG_ASK_PER_ADDRESS, window=window
    ):
        raise SubmissionRefused(
            f"You have sent several questions in a short time. Please wait {minutes} "
            "minutes and send this one again: what you typed is still here.",
            status=429,
        )
    if not ratelimit.allow(
        "ask-story", story.pk, limit=settings.LIVEBLOG_ASK_PER_STORY, window=window
    ):
        raise SubmissionRefused(
            "The newsroom is receiving many questions about this story right now. "
            "Please try again in a few minutes.",
            status=429,
        )
    if story.submissions.awaiting().count() >= settings.LIVEBLOG_ASK_QUEUE_LIMIT:
        raise SubmissionRefused(
            "The newsroom has many questions about this story waiting to be read. "
            "Please try again later.",
            status=429,
        )
    return Submission.objects.create(story=story, text=text, name=name, email=email)


# Markdown's backslash escapes cover every ASCII punctuation character: escaped, a
# reader's words are shown as typed, never as a link, emphasis or a list.
MARKDOWN_PUNCTUATION = str.maketrans({c: "\\" + c for c in string.punctuation})


def escape_markdown(text):
    return text.translate(MARKDOWN_PUNCTUATION)


def submission_answer_body(submission):
    """The opening of the entry that answers ``submission``: the question quoted as the
    reader typed it, introduced by their name or "A reader"."""
    lines = [escape_markdown(line) for line in submission.text.splitlines()]
    quoted = "\n> ".join(lines)
    return f"> **{escape_markdown(submission.asker)} asks:** {quoted}\n\n"


def _submission_audit(submission, action, user, entry=None):
    AuditEvent.objects.create(
        story_id=submission.story_id,
        entry=entry,
        user=user,
        action=action,
        detail=_quoted(submission.text),
    )


@transaction.atomic
def submission_answer(*, submission, entry, user):
    """Record that ``entry`` answers ``submission``, and log it."""
    submission.decide(Submission.Status.ANSWERED, user, answer=entry)
    _submission_audit(submission, AuditEvent.Action.QUESTION_ANSWERED, user, entry)


@transaction.atomic
def submission_set_status(*, submission, status, user):
    """Mark ``submission`` used (the newsroom took it up without quoting it) or
    dismissed, and log it."""
    actions = {
        Submission.Status.USED: AuditEvent.Action.QUESTION_USED,
        Submission.Status.DISMISSED: AuditEvent.Action.QUESTION_DISMISSED,
    }
    submission.decide(status, user)
    _submission_audit(submission, actions[status], user)
