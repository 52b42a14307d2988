"""Anyone we write as or about."""

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from .. import changes
from ..images import stored_name
from .base import MaxCharsValidator, validate_image
from .stories import StoryChange


def headshot_path(instance, filename):
    return "people/" + stored_name(filename)


class Person(models.Model):
    """Anyone we write as or about: staff bylines (linked to a login) and newsmakers."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    title = models.CharField(
        "title or role",
        max_length=200,
        blank=True,
        help_text="“Defense Secretary”, “Pentagon reporter”",
    )
    bio = models.TextField("short bio", blank=True, validators=[MaxCharsValidator(2_000)])
    photo = models.ImageField(
        upload_to=headshot_path, blank=True, validators=[validate_image], help_text="A headshot."
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="person",
        help_text="The staff login that writes under this byline.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"
        # The admin's list of people (its order, made total by the id).
        indexes = [models.Index(fields=["name", "-id"], name="person_by_name")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        byline_changed = self._byline_changed()
        with changes.batch():
            super().save(*args, **kwargs)
            if byline_changed:
                # Every entry with this byline shows it: one change per story.
                for entry in self.entries_written.select_related("story"):
                    changes.announce(entry.story_id, StoryChange.Kind.ENTRY, render=[entry])

    def get_absolute_url(self):
        return reverse("liveblog:person", args=[self.slug])

    def _byline_changed(self):
        if self.pk is None:
            return False
        old = Person.objects.filter(pk=self.pk).values("name", "slug", "title").first()
        return old is not None and old != {
            "name": self.name,
            "slug": self.slug,
            "title": self.title,
        }


class StaffLogin(User):
    """A login as editors see it in the admin: whether it has enrolled a second factor,
    and the reset for a colleague who lost theirs (liveblog/admin.py). A proxy: no table."""

    class Meta:
        proxy = True
        verbose_name = "staff login"
