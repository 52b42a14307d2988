"""Readers' questions and tips: private to the newsroom until a journalist answers one
in an entry (issue 17)."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from .stories import Story


class SubmissionQuerySet(models.QuerySet):
    def awaiting(self):
        """What the desk's queue shows: submissions nobody has decided on yet."""
        return self.filter(status=Submission.Status.NEW)

    def past_retention(self, now=None):
        """Submissions whose e-mail address has been kept as long as the newsroom keeps
        one (``LIVEBLOG_ASK_RETENTION_DAYS``) and must be forgotten."""
        cutoff = (now or timezone.now()) - timedelta(days=settings.LIVEBLOG_ASK_RETENTION_DAYS)
        return self.filter(created_at__lt=cutoff).exclude(email="")


class Submission(models.Model):
    """A reader's question or tip about a story.

    Never read by a public view: there is no public() here on purpose. What readers see
    of one is the entry that answers it, which quotes it (services.submission_answer_body).
    """

    class Status(models.TextChoices):
        NEW = "new", "New"
        ANSWERED = "answered", "Answered"
        USED = "used", "Used"
        DISMISSED = "dismissed", "Dismissed"

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="submissions")
    text = models.TextField("question or tip")
    name = models.CharField("name to show", max_length=80, blank=True)
    email = models.EmailField(
        "e-mail", max_length=254, blank=True, help_text="For the newsroom only."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    answer = models.ForeignKey(
        "Entry",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["story", "status", "-created_at"], name="submission_queue"),
        ]

    def __str__(self):
        return self.text[:80]

    @property
    def asker(self):
        """How the answer names the reader: the name they gave, or "A reader"."""
        return self.name.strip() or "A reader"

    def decide(self, status, user, *, answer=None):
        self.status = status
        self.decided_at = timezone.now()
        self.decided_by = user
        self.answer = answer
        self.save(update_fields=["status", "decided_at", "decided_by", "answer"])
