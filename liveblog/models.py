import os
import zoneinfo

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.db.models import Case, F, Min, Q, Value, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from . import purge
from .images import RENDITION_WIDTHS, check_image, make_rendition
from .pagination import encode_cursor
from .text import render_markdown, to_text, with_dateline


def version_cache_key(slug):
    return f"liveblog:story-version:{slug}"


def version_cache_timeout(next_due_at, default=24 * 60 * 60):
    """How long a story's version may stay cached: not past its next scheduled entry,
    whose time must reach the views so they can announce it."""
    if next_due_at is None:
        return default
    return max(0, min(default, int((next_due_at - timezone.now()).total_seconds()) + 1))


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
    photo = models.ImageField(
        upload_to="people/", blank=True, validators=[validate_image], help_text="A headshot."
    )
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


class Story(Revisioned):
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
    pinned_entry = models.ForeignKey(
        "Entry",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Shown above the stream: an editor’s note or the latest summary.",
    )
    # Advances with every change a reader can see; readers poll "what changed since N".
    version = models.PositiveBigIntegerField(default=0, editable=False)
    # The earliest scheduled entry not yet announced to open pages (see release_due_entries).
    next_due_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = StoryQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["version", "next_due_at", "updated_at"])

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
            Story.objects.filter(pk=self.pk)
            .values("slug", "time_zone", pinned=F("pinned_entry"))
            .first()
            if self.pk
            else None
        )
        if old is not None and kwargs.get("update_fields") is None:
            # The version only moves through bump_version(): an instance loaded before
            # an entry was posted must not write its stale number back.
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in ("version", "next_due_at")
            ]
        with transaction.atomic():
            super().save(*args, **kwargs)
            if old is None:
                return
            if old["slug"] != self.slug:
                transaction.on_commit(lambda: cache.delete(version_cache_key(old["slug"])))
            rendering_changed = (old["slug"], old["time_zone"]) != (self.slug, self.time_zone)
            if rendering_changed:
                # Every entry shows the story's zone and URL in its stored HTML.
                for entry in self.entries.all():
                    entry.refresh_html()
            if rendering_changed or old["pinned"] != self.pinned_entry_id:
                # Too much moved to patch (every entry, or the pinned one leaving or
                # joining the stream): open pages reload.
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
        row = (
            Story.objects.filter(pk=self.pk)
            .values("slug", "status", "version", "next_due_at")
            .first()
        )
        if row is None:
            return
        if row["status"] in self.PUBLIC_STATUSES:
            timeout = version_cache_timeout(row["next_due_at"])
            cache.set(version_cache_key(row["slug"]), row["version"], timeout=timeout)
        else:
            cache.delete(version_cache_key(row["slug"]))
        purge.purge(purge.story_key(row["slug"]), purge.LISTS_KEY)

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

    def refresh_next_due(self):
        """Note the time of the earliest scheduled entry still in the future."""
        future = self.entries.filter(status=Entry.Status.PUBLISHED, published_at__gt=timezone.now())
        self.next_due_at = future.aggregate(next_due=Min("published_at"))["next_due"]
        Story.objects.filter(pk=self.pk).update(next_due_at=self.next_due_at)

    def release_due_entries(self):
        """Announce scheduled entries whose time has come to pages already open.

        Public queries compare with the current time, so a scheduled entry is on the
        page the moment it is due without any job running. Open pages only learn of
        changes through the version, so the first request after that moment advances
        it, once: the row lock makes concurrent requests wait, then find nothing due.
        """
        now = timezone.now()
        if self.next_due_at is None or self.next_due_at > now:
            return
        with transaction.atomic():
            story = Story.objects.select_for_update().get(pk=self.pk)
            if story.next_due_at is None or story.next_due_at > now:
                self.version, self.next_due_at = story.version, story.next_due_at
                return
            due = story.entries.filter(
                status=Entry.Status.PUBLISHED,
                published_at__gte=story.next_due_at,
                published_at__lte=now,
            )
            for entry_id in due.values_list("pk", flat=True):
                story.bump_version(StoryChange.Kind.ENTRY, entry_id)
            story.refresh_next_due()
            self.version, self.next_due_at = story.version, story.next_due_at


class EntryQuerySet(models.QuerySet):
    def public(self):
        """Entries readers may see: published, their time come, in a public story.

        The one visibility rule for every public view, feed and endpoint.
        """
        return self.filter(
            status=Entry.Status.PUBLISHED,
            published_at__lte=timezone.now(),
            story__status__in=Story.PUBLIC_STATUSES,
        )

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


class Entry(Revisioned):
    """A timestamped update in a story."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    # What readers see of an entry: changing one after publication marks it "Updated".
    READER_FIELDS = ("headline", "dateline", "body", "published_at", "correction", "photo")

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="entries")
    headline = models.CharField(max_length=300)
    dateline = models.CharField(
        max_length=80, blank=True, help_text="Where it was reported: “WASHINGTON”."
    )
    body = models.TextField(
        help_text="Markdown: a blank line between paragraphs, **bold**, *italics*, "
        "[link text](https://…), lists with - or 1., and > for a quotation."
    )
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.PUBLISHED,
        help_text="A published entry with a time in the future is scheduled: it appears then.",
    )
    published_at = models.DateTimeField(
        "time",
        default=timezone.now,
        help_text="The time readers see: now, earlier, or later to schedule it.",
    )
    authors = models.ManyToManyField(Person, blank=True, related_name="entries_written")
    people = models.ManyToManyField(
        Person, blank=True, related_name="entries_mentioned", verbose_name="people mentioned"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, editable=False
    )
    body_html = models.TextField(blank=True, editable=False)
    photo = models.ImageField(upload_to="entries/%Y/%m/", blank=True, validators=[validate_image])
    photo_alt = models.CharField(
        "photo alt text",
        max_length=300,
        blank=True,
        help_text="What the photo shows, for readers who cannot see it. Required with a photo.",
    )
    photo_caption = models.CharField(max_length=500, blank=True)
    photo_credit = models.CharField(max_length=200, blank=True)
    correction = models.TextField(
        blank=True, help_text="A correction note shown with the entry, e.g. what was wrong."
    )
    # The desk form's one-time token: posting the same form twice makes one entry.
    submission_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # When what readers see of a published entry last changed ("Updated 9:52 p.m.").
    revised_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The entry's public HTML, rendered from liveblog/_entry.html whenever the entry (or
    # what it shows of its story and authors) changes, so pages never render it per request.
    html = models.TextField(blank=True, editable=False)

    objects = EntryQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["html", "body_html", "updated_at"])

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
        self.body_html = render_markdown(self.body)
        old = None
        if not self._state.adding:
            old = (
                Entry.objects.filter(pk=self.pk)
                .values(*self.READER_FIELDS, "story_id", "status")
                .first()
            )
        was_public = (
            old and old["status"] == self.Status.PUBLISHED and old["published_at"] <= timezone.now()
        )
        if was_public and any(old[name] != getattr(self, name) for name in self.READER_FIELDS):
            self.revised_at = timezone.now()
        with transaction.atomic():
            super().save(*args, **kwargs)
            self.publish_change()
            self.story.refresh_next_due()
            if old and old["story_id"] != self.story_id:
                # Readers of the story it left must drop it.
                Story(pk=old["story_id"]).bump_version(StoryChange.Kind.ENTRY_REMOVED, self.pk)

    def get_absolute_url(self):
        return reverse("liveblog:entry", args=[self.story.slug, self.pk]) + f"#{self.anchor}"

    def clean(self):
        if self.published_at and not 1900 <= self.published_at.year <= 2999:
            raise ValidationError({"published_at": "That time is out of range: check the year."})
        if self.photo and not self.photo_alt.strip():
            raise ValidationError(
                {"photo_alt": "Describe the photo for readers who cannot see it."}
            )

    @property
    def body_with_dateline(self):
        return with_dateline(self.body_html, self.dateline)

    @property
    def text(self):
        """The entry as plain text, the dateline opening it."""
        body = to_text(self.body_html)
        return f"{self.dateline} — {body}" if self.dateline and body else body

    def photo_sources(self):
        """The photo's renditions for a responsive <picture>, or None when its file is
        missing (the page then shows a placeholder)."""
        if not self.photo:
            return None
        renditions = Rendition.for_file(self.photo)
        if not renditions:
            return None

        def srcset(image_format):
            # A small photo is never scaled up: its renditions may share a width.
            widths = {r.pixel_width: r.file.url for r in renditions if r.format == image_format}
            return ", ".join(f"{url} {width}w" for width, url in sorted(widths.items()))

        largest = max((r for r in renditions if r.format != "WEBP"), key=lambda r: r.pixel_width)
        return {
            "webp": srcset("WEBP"),
            "fallback": srcset(largest.format),
            "src": largest.file.url,
            "width": largest.pixel_width,
            "height": largest.height,
        }

    @property
    def is_scheduled(self):
        return self.status == self.Status.PUBLISHED and self.published_at > timezone.now()

    @property
    def state_label(self):
        """Draft, Scheduled or Published, as the newsroom says it."""
        return "Scheduled" if self.is_scheduled else self.get_status_display()

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
    history = HistoricalRecords()

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


class AuditEvent(models.Model):
    """One line of the editors' log: who published, unpublished, scheduled or pinned what."""

    class Action(models.TextChoices):
        PUBLISHED = "published", "published"
        SCHEDULED = "scheduled", "scheduled"
        UNPUBLISHED = "unpublished", "unpublished"
        SAVED_DRAFT = "draft", "saved as draft"
        PINNED = "pinned", "pinned"
        UNPINNED = "unpinned", "unpinned"
        STORY_STATUS = "story_status", "changed the story's status"

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="audit_events")
    entry = models.ForeignKey(
        Entry, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.user} {self.get_action_display()} {self.detail}"


class Rendition(models.Model):
    """A stored image scaled to one width in one format, made once and reused."""

    source = models.CharField(max_length=255, db_index=True)
    width = models.PositiveIntegerField()
    format = models.CharField(max_length=10)
    file = models.ImageField(
        upload_to="renditions/%Y/%m/", width_field="pixel_width", height_field="height"
    )
    pixel_width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "width", "format"], name="one_rendition_per_size"
            )
        ]

    def __str__(self):
        return f"{self.source} {self.width}w {self.format}"

    @classmethod
    def for_file(cls, image_file):
        """Renditions of ``image_file`` at each width, WebP and its own format; [] when
        the file is missing. Rows are made with get_or_create, which guards against two
        requests making the same one at once."""
        image_format = "PNG" if image_file.name.lower().endswith((".png", ".gif")) else "JPEG"
        renditions = []
        for width in RENDITION_WIDTHS:
            for fmt in ("WEBP", image_format):
                existing = cls.objects.filter(
                    source=image_file.name, width=width, format=fmt
                ).first()
                if existing is None:
                    made = make_rendition(image_file, width, fmt)
                    if made is None:
                        return []
                    content, _size = made
                    stem = os.path.splitext(os.path.basename(image_file.name))[0]
                    name = f"{stem}-{width}.{fmt.lower()}"
                    existing, _ = cls.objects.get_or_create(
                        source=image_file.name,
                        width=width,
                        format=fmt,
                        defaults={"file": ContentFile(content, name=name)},
                    )
                renditions.append(existing)
        return renditions
