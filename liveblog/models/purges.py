"""Purges waiting to be sent to the caches in front (see purge.py)."""

from django.db import models
from django.utils import timezone


class Purge(models.Model):
    """A surrogate key to purge. One row per key: a key queued again while its row waits
    is purged once, and the queue cannot hold more rows than there are keys."""

    key = models.CharField(max_length=250, unique=True)
    due_at = models.DateTimeField(default=timezone.now, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    queued_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=300, blank=True)

    def __str__(self):
        return self.key
