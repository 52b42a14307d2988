"""What the models share: optimistic locking and validators."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models, transaction
from django.db.models import F

from ..images import check_image


def validate_image(file):
    # A file already stored was checked on its way in; only new uploads are read.
    # FieldFile has no public word for "not saved yet": _committed is what Django's own
    # FileField.pre_save reads for it.
    if not getattr(file, "_committed", True):
        check_image(file)


class MaxCharsValidator(MaxLengthValidator):
    """Text of at most ``limit_value`` characters, refused with a message that says the
    limit and the length. The limit may be a function, called on every check, so that a
    setting is never read at import time.

    Free text has no limit in the database (TextField): without this, one paste of a
    few megabytes would go out in every page, poll, API answer and feed.
    """

    def __call__(self, value):
        limit = self.limit_value() if callable(self.limit_value) else self.limit_value
        if len(value) > limit:
            raise ValidationError(
                "Keep it under %(limit)s characters (this has %(length)s).",
                code=self.code,
                params={"limit": f"{limit:,}", "length": f"{len(value):,}"},
            )


def max_body_chars():
    return settings.LIVEBLOG_MAX_BODY_CHARS


class EditConflict(Exception):
    """Someone saved the object after the editor opened it."""


class Revisioned(models.Model):
    """Optimistic locking: a save that names the revision it was edited from only
    succeeds while that is still the stored one.

    The check is in the UPDATE's WHERE clause, so it holds on SQLite, which ignores
    SELECT ... FOR UPDATE, as well as on PostgreSQL. Forms opt in by setting
    ``expected_revision``; other saves just advance the revision.
    """

    revision = models.PositiveIntegerField(default=1, editable=False)

    expected_revision = None

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self._state.adding:
            return super().save(*args, **kwargs)
        rows = type(self)._base_manager.filter(pk=self.pk)
        expected = self.expected_revision
        with transaction.atomic():
            # Advance the revision before saving, in an UPDATE that checks the one the
            # form was opened at: its row lock holds until the transaction ends, so no
            # other save can come in between the check and this save.
            claim = rows if expected is None else rows.filter(revision=expected)
            if claim.update(revision=F("revision") + 1):
                self.revision = rows.values_list("revision", flat=True).get()
            elif rows.exists():
                raise EditConflict(f"{self._meta.model_name} {self.pk}: not at {expected}")
            else:
                # Deleted since it was loaded: saving would bring it back.
                raise EditConflict(f"{self._meta.model_name} {self.pk}: deleted")
            super().save(*args, **kwargs)
        self.expected_revision = None


def default_time_zone():
    return settings.TIME_ZONE


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a time zone. Use a name like America/New_York.")
