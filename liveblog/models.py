import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, F, Q, Value, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .pagination import encode_cursor

# A reporter's clock may run a little ahead of the server's; an entry shown "now" on
# their machine must not be refused as a future time.
CLOCK_SKEW = timedelta(minutes=2)


def version_cache_key(slug):
    return f"liveblog:story-version:{slug}"


def default_time_zone():
    return settings.TIME_ZONE


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a time zone. Use a name like America/New_York.")


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
    bio = models.TextField("short bio", blank=True)
    photo = models.ImageField(upload_to="people/", blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="person",
        help_text="The staff login that writes under this byline.",
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        byline_changed = self._byline_changed()
        super().save(*args, **kwargs)
        if byline_changed:
            for entry in self.entries_written.select_related("story"):
                entry.publish_change()

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


class StoryQuerySet(models.QuerySet):
    def public(self):
        """Stories readers may see: live or ended, never drafts."""
        return self.filter(status__in=Story.PUBLIC_STATUSES)

    def for_front_page(self):
        """Live stories first, then ended ones, most recently updated first."""
        live_first = Case(When(status=Story.Status.LIVE, then=Value(0)), default=Value(1))
        return self.public().order_by(live_first, "-updated_at")


class Story(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        LIVE = "live", "Live"
        ENDED = "ended", "Ended"

    PUBLIC_STATUSES = (Status.LIVE, Status.ENDED)

    headline = models.CharField(max_length=300)
    slug = models.SlugField(max_length=200, unique=True)
    lede = models.TextField(
        blank=True, help_text="The summary at the top. Separate paragraphs with a blank line."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    time_zone = models.CharField(
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text="Entry times are shown in this zone, e.g. America/New_York.",
    )
    key_points_heading = models.CharField(
        max_length=200, default="Here are key points of what we know:"
    )
    coverage_start = models.DateTimeField(
        null=True, blank=True, help_text="Set when the story first goes live."
    )
    coverage_end = models.DateTimeField(null=True, blank=True, help_text="Set when coverage ends.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # Advances with every change a reader can see; readers poll "what changed since N".
    version = models.PositiveBigIntegerField(default=0, editable=False)

    objects = StoryQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        verbose_name_plural = "stories"
        indexes = [models.Index(fields=["status", "-updated_at"])]

    def __str__(self):
        return self.headline

    def save(self, *args, **kwargs):
        now = timezone.now()
        if self.status == self.Status.LIVE:
            self.coverage_start = self.coverage_start or now
            self.coverage_end = None
        elif self.status == self.Status.ENDED:
            self.coverage_start = self.coverage_start or now
            self.coverage_end = self.coverage_end or now
        old = (
            Story.objects.filter(pk=self.pk).values("slug", "time_zone").first()
            if self.pk
            else None
        )
        if old is not None and kwargs.get("update_fields") is None:
            # The version only moves through bump_version(): an instance loaded before
            # an entry was posted must not write its stale number back.
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name != "version"
            ]
        with transaction.atomic():
            super().save(*args, **kwargs)
            if old is None:
                return
            if old["slug"] != self.slug:
                transaction.on_commit(lambda: cache.delete(version_cache_key(old["slug"])))
            if old != {"slug": self.slug, "time_zone": self.time_zone}:
                # Every entry shows the story's zone and URL in its stored HTML: render
                # them all again, and have open pages reload rather than patch each one.
                for entry in self.entries.all():
                    entry.refresh_html()
                self.bump_version(StoryChange.Kind.RELOAD)
            else:
                self.bump_version(StoryChange.Kind.STORY)

    def get_absolute_url(self):
        return reverse("liveblog:story", args=[self.slug])

    def clean(self):
        if self.pk is None:
            return
        old = Story.objects.filter(pk=self.pk).values("slug", "status").first()
        if old and old["slug"] != self.slug and old["status"] in self.PUBLIC_STATUSES:
            raise ValidationError(
                {"slug": "Readers already have links to this story: its address can’t change."}
            )

    @property
    def tzinfo(self):
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def is_live(self):
        return self.status == self.Status.LIVE

    @property
    def is_public(self):
        return self.status in self.PUBLIC_STATUSES

    def bump_version(self, kind, entry_id=None):
        """Advance the story's version and log what changed, in the caller's transaction.

        The UPDATE takes the story row's lock until the transaction ends, so concurrent
        posts get consecutive versions in commit order: a reader who has seen version N
        has seen every change up to N, with no gap and no duplicate.
        """
        with transaction.atomic():
            Story.objects.filter(pk=self.pk).update(
                version=F("version") + 1, updated_at=timezone.now()
            )
            self.version = Story.objects.filter(pk=self.pk).values_list("version", flat=True).get()
            StoryChange.objects.create(
                story_id=self.pk, version=self.version, kind=kind, entry_id=entry_id
            )
            transaction.on_commit(self._publish_version)
        return self.version

    def _publish_version(self):
        """Tell the live-updates endpoint the committed version, so it can answer "no
        change" without the database."""
        row = Story.objects.filter(pk=self.pk).values("slug", "status", "version").first()
        if row is None:
            return
        if row["status"] in self.PUBLIC_STATUSES:
            cache.set(version_cache_key(row["slug"]), row["version"], timeout=None)
        else:
            cache.delete(version_cache_key(row["slug"]))

    def changes_since(self, version, *, until):
        """What changed after ``version`` up to ``until``: the entry ids touched, and
        the kinds of change."""
        entry_ids, kinds = set(), set()
        changes = self.changes.filter(version__gt=version, version__lte=until)
        for kind, entry_id in changes.values_list("kind", "entry_id"):
            kinds.add(kind)
            if entry_id is not None:
                entry_ids.add(entry_id)
        return entry_ids, kinds


class EntryQuerySet(models.QuerySet):
    def public(self):
        """Entries readers may see: those of public stories."""
        return self.filter(story__status__in=Story.PUBLIC_STATUSES)

    def editable_by(self, user):
        """Editors may change any entry; reporters only those they wrote or created."""
        if user.has_perm("liveblog.change_any_entry"):
            return self
        return self.filter(Q(created_by=user) | Q(authors__user=user)).distinct()

    def newest_first(self):
        return self.order_by("-published_at", "-id")

    def at_or_before(self, published_at, pk, *, inclusive=False):
        """Keyset page: entries shown at or before (published_at, pk), newest first.

        The redundant ``published_at <= t`` lets the database start its index scan at the
        cursor instead of filtering its way down from the newest entry.
        """
        older = self.filter(published_at__lte=published_at)
        if inclusive:
            older = older.exclude(published_at=published_at, id__gt=pk)
        else:
            older = older.exclude(published_at=published_at, id__gte=pk)
        return older.newest_first()


class Entry(models.Model):
    """A timestamped update in a story."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="entries")
    headline = models.CharField(max_length=300)
    dateline = models.CharField(
        max_length=80, blank=True, help_text="Where it was reported: “WASHINGTON”."
    )
    body = models.TextField(help_text="Separate paragraphs with a blank line.")
    published_at = models.DateTimeField(
        "time", default=timezone.now, help_text="The time readers see. Now, or earlier."
    )
    authors = models.ManyToManyField(Person, blank=True, related_name="entries_written")
    people = models.ManyToManyField(
        Person, blank=True, related_name="entries_mentioned", verbose_name="people mentioned"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # The entry's public HTML, rendered from liveblog/_entry.html whenever the entry (or
    # what it shows of its story and authors) changes, so pages never render it per request.
    html = models.TextField(blank=True, editable=False)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name_plural = "entries"
        indexes = [
            models.Index(fields=["story", "-published_at", "-id"], name="entry_story_stream")
        ]
        permissions = [("change_any_entry", "Can change and delete any reporter's entries")]

    def __str__(self):
        return self.headline

    def save(self, *args, **kwargs):
        moved_from = None
        if not self._state.adding:
            moved_from = Entry.objects.filter(pk=self.pk).exclude(story_id=self.story_id)
            moved_from = moved_from.values_list("story_id", flat=True).first()
        with transaction.atomic():
            super().save(*args, **kwargs)
            self.publish_change()
            if moved_from is not None:
                # Readers of the story it left must drop it.
                Story(pk=moved_from).bump_version(StoryChange.Kind.ENTRY_REMOVED, self.pk)

    def get_absolute_url(self):
        return reverse("liveblog:entry", args=[self.story.slug, self.pk]) + f"#{self.anchor}"

    def clean(self):
        if self.published_at and self.published_at > timezone.now() + CLOCK_SKEW:
            raise ValidationError({"published_at": "The time can’t be in the future."})

    @property
    def anchor(self):
        return f"entry-{self.pk}"

    @property
    def cursor(self):
        return encode_cursor(self)

    @property
    def local_published_at(self):
        return timezone.localtime(self.published_at, self.story.tzinfo)

    def render_html(self):
        return render_to_string("liveblog/_entry.html", {"entry": self, "story": self.story})

    def refresh_html(self):
        """Re-render the stored public HTML after a change to the entry or its bylines."""
        self.html = self.render_html()
        Entry.objects.filter(pk=self.pk).update(html=self.html)

    def publish_change(self):
        """Re-render the entry and tell its readers, in one transaction."""
        with transaction.atomic():
            self.refresh_html()
            self.story.bump_version(StoryChange.Kind.ENTRY, self.pk)


class KeyPointQuerySet(models.QuerySet):
    def public(self):
        """Key points readers may see: pinned ones of public stories, in order."""
        return self.filter(pinned=True, story__status__in=Story.PUBLIC_STATUSES).order_by(
            "position", "id"
        )


class KeyPoint(models.Model):
    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="key_points")
    text = models.TextField()
    position = models.PositiveIntegerField(default=0)
    pinned = models.BooleanField(
        default=True, help_text="Only pinned key points are shown to readers."
    )
    entry = models.ForeignKey(
        Entry,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="key_points",
        help_text="The update this key point summarizes, if any.",
    )

    objects = KeyPointQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["story", "pinned", "position"])]

    def __str__(self):
        return self.text[:80]

    def clean(self):
        if self.entry_id and self.story_id and self.entry.story_id != self.story_id:
            raise ValidationError({"entry": "Choose an update from this story."})


class StoryChange(models.Model):
    """One step of a story's version: what a reader at the version before must update.

    Rows stay after an entry is deleted (a tombstone: the entry id is not a foreign
    key), so a reader who polls later still learns to remove it.
    """

    class Kind(models.TextChoices):
        ENTRY = "entry", "Entry posted or changed"
        ENTRY_REMOVED = "entry_removed", "Entry removed"
        KEY_POINTS = "key_points", "Key points changed"
        STORY = "story", "Story changed"
        RELOAD = "reload", "Every entry changed"

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="changes")
    version = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    entry_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["story", "version"]
        constraints = [
            models.UniqueConstraint(fields=["story", "version"], name="one_change_per_version")
        ]

    def __str__(self):
        return f"{self.story_id} v{self.version}: {self.kind}"
