"""Stories, their change log and key points."""

import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, F, Min, Value, When
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .. import changes, search
from ..dates import validate_in_range
from .base import MaxCharsValidator, Revisioned, default_time_zone, validate_time_zone

# A live story without an editor's expected end is expected to end this long after its
# latest change (structured data's coverageEndTime).
EXPECTED_COVERAGE_AFTER_LAST_CHANGE = timedelta(hours=24)


class StoryQuerySet(models.QuerySet):
    def public(self):
        """Stories readers may see: live or ended, never drafts."""
        return self.filter(status__in=Story.PUBLIC_STATUSES)

    def for_front_page(self):
        """Live stories first, then ended ones, most recently updated first."""
        live_first = Case(When(status=Story.Status.LIVE, then=Value(0)), default=Value(1))
        return self.public().order_by(live_first, "-updated_at")

    def live(self):
        """Live stories, most recently updated first."""
        return self.filter(status=Story.Status.LIVE).order_by("-updated_at", "-id")

    def archive(self, *, before=None):
        """Ended stories, the latest to end first (the ``story_archive`` index's order),
        after the keyset position ``before`` (coverage_end, pk) if given."""
        # Story.save() stamps the end (and migration 0013 the older rows): one written
        # past it, in SQL, has no place in a list ordered by it.
        ended = self.filter(status=Story.Status.ENDED, coverage_end__isnull=False)
        if before is not None:
            coverage_end, pk = before
            # The redundant bound lets the index scan start at the cursor.
            ended = ended.filter(coverage_end__lte=coverage_end).exclude(
                coverage_end=coverage_end, id__gte=pk
            )
        return ended.order_by("-coverage_end", "-id")


class Story(Revisioned):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        LIVE = "live", "Live"
        ENDED = "ended", "Ended"

    PUBLIC_STATUSES = (Status.LIVE, Status.ENDED)

    headline = models.CharField(max_length=300)
    slug = models.SlugField(max_length=200, unique=True)
    lede = models.TextField(
        blank=True,
        validators=[MaxCharsValidator(5_000)],
        help_text="The summary at the top. Separate paragraphs with a blank line.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    time_zone = models.CharField(
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text="Entry times are shown in this zone, e.g. America/New_York.",
    )
    language = models.CharField(
        max_length=8,
        choices=[
            ("en", "English"),
            ("es", "Spanish"),
            ("fr", "French"),
            ("de", "German"),
            ("it", "Italian"),
            ("pt", "Portuguese"),
            ("other", "Other"),
        ],
        default="en",
        help_text="The language the story is written in: how search matches its words.",
    )
    key_points_heading = models.CharField(
        max_length=200, default="Here are key points of what we know:"
    )
    coverage_start = models.DateTimeField(
        null=True,
        blank=True,
        validators=[validate_in_range],
        help_text="Set when the story first goes live.",
    )
    coverage_end = models.DateTimeField(
        null=True, blank=True, validators=[validate_in_range], help_text="Set when coverage ends."
    )
    expected_end = models.DateTimeField(
        "expected end of coverage",
        null=True,
        blank=True,
        validators=[validate_in_range],
        help_text="When coverage is expected to end, for search engines. Left blank, or "
        "once the story changes after it: a day after the latest change.",
    )
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
    # What every page of the story shows besides its entries, kept by the change pipeline
    # (refresh_page_summary) so that a page reads it with the story: the story's picture
    # in shares and structured data, the photo (its name in storage) of the newest entry
    # readers may see that has one; and the key points readers see, in order.
    picture = models.CharField(max_length=255, blank=True, editable=False)
    picture_alt = models.CharField(max_length=300, blank=True, editable=False)
    key_points_shown = models.JSONField(default=list, blank=True, editable=False)

    # Written by the change pipeline alone, never by a save of the story's form.
    PIPELINE_FIELDS = ("version", "next_due_at", "picture", "picture_alt", "key_points_shown")

    objects = StoryQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=[*PIPELINE_FIELDS, "updated_at"])

    class Meta:
        ordering = ["-updated_at"]
        verbose_name_plural = "stories"
        indexes = [
            models.Index(fields=["status", "-updated_at"]),
            # The archive: ended stories, newest coverage end first, keyset paged.
            models.Index(fields=["status", "-coverage_end", "-id"], name="story_archive"),
            # The admin's story list (its order, made total by the id).
            models.Index(fields=["-updated_at", "-id"], name="story_recently_updated"),
        ]

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
            .values("slug", "time_zone", "language", pinned=F("pinned_entry"))
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
                if not f.primary_key and f.name not in self.PIPELINE_FIELDS
            ]
        with changes.batch():
            super().save(*args, **kwargs)
            if old is None:
                if self.is_public:  # on the front page, in the feeds and the sitemap
                    changes.announce(self.pk, StoryChange.Kind.STORY)
                return
            if old["slug"] != self.slug:
                transaction.on_commit(lambda: changes.forget_slug(old["slug"]), robust=True)
            if old["language"] != self.language:
                search.reindex_story(self)
            rendering_changed = (old["slug"], old["time_zone"]) != (self.slug, self.time_zone)
            if rendering_changed:
                # Every entry shows the story's zone and URL in its stored HTML.
                for entry in self.entries.iterator():
                    entry.story = self
                    entry.refresh_html()
            if rendering_changed or old["pinned"] != self.pinned_entry_id:
                # Too much moved to patch (every entry, or the pinned one leaving or
                # joining the stream): open pages reload.
                changes.announce(self.pk, StoryChange.Kind.RELOAD)
            else:
                changes.announce(self.pk, StoryChange.Kind.STORY)

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
        """The story's zone; the newsroom's for a name that is none (a form refused it,
        or older data), so a page shows times rather than fail."""
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo(settings.TIME_ZONE)

    @property
    def is_live(self):
        return self.status == self.Status.LIVE

    @property
    def expected_coverage_end(self):
        """When a live story's coverage is expected to end: the editor's time, unless the
        story has changed since (coverage ran over), else a day after the latest change.

        A rolling day after the latest change, not the start plus a fixed span: a story
        that keeps going never claims an end already past, and one that falls quiet
        says so within a day. It moves with the version, so a cached page stays true.
        """
        if self.expected_end and self.expected_end > self.updated_at:
            return self.expected_end
        return self.updated_at + EXPECTED_COVERAGE_AFTER_LAST_CHANGE

    @property
    def is_public(self):
        return self.status in self.PUBLIC_STATUSES

    def refresh_page_summary(self):
        """Note what readers see of the story besides its entries: its picture, the
        photo of the newest entry readers may see that has one (``picture``,
        ``picture_alt``), and its key points (``key_points_shown``: their ``text`` and
        the ``entry_id`` they link to, None while that entry is not public).

        The change pipeline calls it for every story a batch touches, and
        release_due_entries reads it again: what readers may see only changes through
        those, so a draft or scheduled photo never becomes the story's picture."""
        newest = self.entries.public().exclude(photo="").newest_first()
        photo = newest.values_list("photo", "photo_alt").first()
        self.picture, self.picture_alt = photo or ("", "")
        points = list(KeyPoint.objects.public().filter(story=self).values("text", "entry_id"))
        # A key point may name an entry readers cannot see yet (the admin lets an editor
        # prepare one for a scheduled entry): it links to it once the entry appears.
        linked = [point["entry_id"] for point in points if point["entry_id"]]
        shown = set(self.entries.public().filter(pk__in=linked).values_list("pk", flat=True))
        for point in points:
            if point["entry_id"] not in shown:
                point["entry_id"] = None
        self.key_points_shown = points
        Story.objects.filter(pk=self.pk).update(
            picture=self.picture,
            picture_alt=self.picture_alt,
            key_points_shown=self.key_points_shown,
        )

    @property
    def key_entry_ids(self):
        """The entries the key points readers see link to."""
        return [point["entry_id"] for point in self.key_points_shown if point["entry_id"]]

    def bump_version(self, kinds, entry_ids=()):
        """Advance the story's version and log what changed, in the caller's transaction.

        Only the change pipeline calls this (see changes.py), once per story and batch.
        The UPDATE takes the story row's lock until the transaction ends, so concurrent
        posts get consecutive versions in commit order: a reader who has seen version N
        has seen every change up to N, with no gap and no duplicate.
        """
        with transaction.atomic():
            bumped = Story.objects.filter(pk=self.pk).update(
                version=F("version") + 1, updated_at=timezone.now()
            )
            if not bumped:
                return None  # deleted meanwhile: nobody is left to tell
            self.version = Story.objects.filter(pk=self.pk).values_list("version", flat=True).get()
            StoryChange.objects.create(
                story_id=self.pk,
                version=self.version,
                kinds=sorted(kinds),
                entry_ids=sorted(entry_ids),
            )
        return self.version

    def changes_since(self, version, *, until):
        """What changed after ``version`` up to ``until``: the entry ids touched, and
        the kinds of change."""
        entry_ids, kinds = set(), set()
        steps = self.changes.filter(version__gt=version, version__lte=until)
        for step_kinds, step_entry_ids in steps.values_list("kinds", "entry_ids"):
            kinds.update(step_kinds)
            entry_ids.update(step_entry_ids)
        return entry_ids, kinds

    def refresh_next_due(self, now):
        """Note the time of the earliest scheduled entry still in the future at ``now``."""
        future = self.entries.filter(
            status=self.entries.model.Status.PUBLISHED, published_at__gt=now
        )
        self.next_due_at = future.aggregate(next_due=Min("published_at"))["next_due"]
        Story.objects.filter(pk=self.pk).update(next_due_at=self.next_due_at)

    def due_entry_ids(self, now):
        """The scheduled entries that have come due by ``now`` since the story's next
        due time was noted, unannounced: none when that time is later or none is noted.
        Read it and note the next one (refresh_next_due) with the same ``now``: an entry
        due in between would be neither."""
        if self.next_due_at is None or self.next_due_at > now:
            return []
        due = self.entries.filter(
            status=self.entries.model.Status.PUBLISHED,
            published_at__gte=self.next_due_at,
            published_at__lte=now,
        )
        return list(due.values_list("pk", flat=True))

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
        with changes.batch():
            story = Story.objects.select_for_update(no_key=True).get(pk=self.pk)
            if story.next_due_at is None or story.next_due_at > now:
                for name in self.PIPELINE_FIELDS:
                    setattr(self, name, getattr(story, name))
                return
            # The change pipeline announces what came due and notes the next due time,
            # as for any change (changes._make_changes).
            changes.announce(story.pk, StoryChange.Kind.ENTRY)
        story = Story.objects.values(*self.PIPELINE_FIELDS).get(pk=self.pk)
        for name, value in story.items():
            setattr(self, name, value)


class KeyPointQuerySet(models.QuerySet):
    def public(self):
        """Key points readers may see: pinned ones of public stories, in order."""
        return self.filter(pinned=True, story__status__in=Story.PUBLIC_STATUSES).order_by(
            "position", "id"
        )


class KeyPoint(models.Model):
    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="key_points")
    text = models.TextField(validators=[MaxCharsValidator(1_000)])
    position = models.PositiveIntegerField(default=0)
    pinned = models.BooleanField(
        default=True, help_text="Only pinned key points are shown to readers."
    )
    entry = models.ForeignKey(
        "Entry",
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

    def save(self, *args, **kwargs):
        with changes.batch():
            super().save(*args, **kwargs)
            changes.announce(self.story_id, StoryChange.Kind.KEY_POINTS)

    def clean(self):
        if self.entry_id and self.story_id and self.entry.story_id != self.story_id:
            raise ValidationError({"entry": "Choose an update from this story."})


class StoryChange(models.Model):
    """One step of a story's version: what a reader at the version before must update,
    made by the change pipeline (changes.py) once per story and transaction.

    Entry ids stay after an entry is deleted (a tombstone: they are not foreign keys),
    so a reader who polls later still learns to remove it.
    """

    class Kind(models.TextChoices):
        ENTRY = "entry", "Entry posted or changed"
        ENTRY_REMOVED = "entry_removed", "Entry removed"
        KEY_POINTS = "key_points", "Key points changed"
        STORY = "story", "Story changed"
        RELOAD = "reload", "Every entry changed"

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="changes")
    version = models.PositiveBigIntegerField()
    # The Kinds of change made in this step, and the ids of the entries it touched.
    kinds = models.JSONField(default=list)
    entry_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["story", "version"]
        constraints = [
            models.UniqueConstraint(fields=["story", "version"], name="one_change_per_version")
        ]

    def __str__(self):
        return f"{self.story_id} v{self.version}: {', '.join(self.kinds)}"
