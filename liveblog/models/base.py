"""What the models share: optimistic locking and validators."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F

from ..images import check_image


def validate_image(file):
    # A file already stored was checked on its way in; only new uploads are read.
    if not getattr(file, "_committed", True):
        check_image(file)


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

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update):
        values = [
            (field, model, F("revision") + 1 if field.attname == "revision" else value)
            for field, model, value in values
        ]
        if self.expected_revision is not None:
            base_qs = base_qs.filter(revision=self.expected_revision)
        updated = super()._do_update(base_qs, using, pk_val, values, update_fields, forced_update)
        conflict = not updated and self.expected_revision is not None
        if conflict and type(self)._base_manager.filter(pk=pk_val).exists():
            raise EditConflict(f"{self._meta.model_name} {pk_val}: not at {self.expected_revision}")
        if updated:
            self.revision = (
                type(self)._base_manager.filter(pk=pk_val).values_list("revision", flat=True).get()
            )
            self.expected_revision = None
        return updated


def default_time_zone():
    return settings.TIME_ZONE


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a time zone. Use a name like America/New_York.")
