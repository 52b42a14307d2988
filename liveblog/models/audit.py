"""The editors' log."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from .stories import Story


class AuditEvent(models.Model):
    """One line of the editors' log: who published, unpublished, scheduled or pinned what,
    changed a story's status, added, moved, pinned or unpinned a key point, or answered,
    used or dismissed a reader's question; and who signed in, failed a second factor,
    enrolled one or had theirs reset (no story)."""

    class Action(models.TextChoices):
        PUBLISHED = "published", "published"
        SCHEDULED = "scheduled", "scheduled"
        UNPUBLISHED = "unpublished", "unpublished"
        SAVED_DRAFT = "draft", "saved as draft"
        PINNED = "pinned", "pinned"
        UNPINNED = "unpinned", "unpinned"
        STORY_STATUS = "story_status", "changed the story's status"
        KEY_POINT_ADDED = "key_point_added", "added a key point"
        KEY_POINT_MOVED = "key_point_moved", "moved a key point"
        KEY_POINT_PINNED = "key_point_pinned", "pinned a key point"
        KEY_POINT_UNPINNED = "key_point_unpinned", "unpinned a key point"
        SIGNED_IN = "signed_in", "signed in"
        SECOND_FACTOR_FAILED = "2fa_failed", "failed a second factor"
        SECOND_FACTOR_ADDED = "2fa_enrolled", "enrolled a second factor"
        SECOND_FACTOR_RESET = "2fa_reset", "reset second factors"
        SIGNED_OUT_OTHERS = "signed_out_others", "signed out other devices"
        QUESTION_ANSWERED = "question_answered", "answered a reader's question"
        QUESTION_USED = "question_used", "marked a reader's question used"
        QUESTION_DISMISSED = "question_dismissed", "dismissed a reader's question"

    # Sign-in lines are about no story.
    story = models.ForeignKey(
        Story, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events"
    )
    entry = models.ForeignKey(
        "Entry", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The editors' log in the admin: whole, by story and by action.
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="audit_newest_first"),
            models.Index(fields=["story", "-created_at", "-id"], name="audit_story_newest"),
            models.Index(fields=["action", "-created_at", "-id"], name="audit_action_newest"),
        ]

    def __str__(self):
        return f"{self.user} {self.get_action_display()} {self.detail}"
