"""Entries, and the renditions of their photos."""

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .. import changes, renditions, search
from ..dates import local, validate_in_range
from ..images import RENDITION_WIDTHS, image_size, make_rendition, stored_name
from ..pagination import encode_cursor
from ..structured_data import entry_posting
from ..text import render_markdown, to_text, with_dateline
from .base import MaxCharsValidator, Revisioned, max_body_chars, validate_image
from .people import Person
from .stories import Story, StoryChange


def entry_photo_path(instance, filename):
    return timezone.now().strftime("entries/%Y/%m/") + stored_name(filename)


def rendition_path(instance, filename):
    return timezone.now().strftime("renditions/%Y/%m/") + stored_name(filename)


class EntryQuerySet(models.QuerySet):
    def public(self, now=None):
        """Entries readers may see: published, their time come, in a public story.

        The one visibility rule for every public view, feed and endpoint. ``now``, the
        time it is judged at, is the current time unless a prepared query names it
        (prepared.Param).
        """
        return self.filter(
            status=Entry.Status.PUBLISHED,
            published_at__lte=timezone.now() if now is None else now,
            story__status__in=Story.PUBLIC_STATUSES,
        )

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

    def search(self, query, *, story=None, highlight=True):
        """These entries that match ``query`` (a stripped string, see
        ``search.clean_query``), in ``story`` if given, each annotated with its ``rank``
        (higher is better) and, with ``highlight``, what ``entry.search_extract()``
        shows. Unordered: ``search.page`` orders and pages them, newest or best first.

        Visibility is the caller's: ``Entry.objects.public().search(q)`` for readers.
        """
        return search.matching(self, query, story=story, highlight=highlight)

    def oldest_first(self):
        return self.order_by("published_at", "id")

    def at_or_after(self, published_at, pk, *, inclusive=False):
        """Keyset page: entries shown at or after (published_at, pk), oldest first.

        The same index as at_or_before, scanned the other way; the redundant
        ``published_at >= t`` starts the scan at the cursor.
        """
        later = self.filter(published_at__gte=published_at)
        if inclusive:
            later = later.exclude(published_at=published_at, id__lt=pk)
        else:
            later = later.exclude(published_at=published_at, id__lte=pk)
        return later.oldest_first()


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
        validators=[MaxCharsValidator(max_body_chars)],
        help_text="Markdown: a blank line between paragraphs, **bold**, *italics*, "
        "[link text](https://…), lists with - or 1., and > for a quotation.",
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
        validators=[validate_in_range],
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
    photo = models.ImageField(upload_to=entry_photo_path, blank=True, validators=[validate_image])
    photo_alt = models.CharField(
        "photo alt text",
        max_length=300,
        blank=True,
        help_text="What the photo shows, for readers who cannot see it. Required with a photo.",
    )
    photo_caption = models.CharField(max_length=500, blank=True)
    photo_credit = models.CharField(max_length=200, blank=True)
    correction = models.TextField(
        blank=True,
        validators=[MaxCharsValidator(2_000)],
        help_text="A correction note shown with the entry, e.g. what was wrong.",
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
    # What the story page's structured data says of the entry, rendered with ``html``
    # (structured_data.entry_posting), so a page never converts entries to text again.
    structured_data = models.JSONField(default=dict, blank=True, editable=False)
    # PostgreSQL's full-text index of the entry, written with ``html`` (see search.py);
    # unused on SQLite. Its GIN index is made by a migration on PostgreSQL only: as
    # an index of Meta, SQLite would be asked to build it whenever it rebuilds the table.
    search_vector = SearchVectorField(null=True, editable=False)

    objects = EntryQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=["html", "body_html", "structured_data", "updated_at", "search_vector"]
    )

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name_plural = "entries"
        indexes = [
            models.Index(fields=["story", "-published_at", "-id"], name="entry_story_stream"),
            # Newest first across stories: the admin's entry list, a person's page,
            # site-wide search.
            models.Index(fields=["-published_at", "-id"], name="entry_newest"),
            # The admin's entry list by status (see admin_lists.py).
            models.Index(fields=["status", "-published_at", "-id"], name="entry_status_newest"),
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
        # Readers neither saw nor see a draft or an entry scheduled for later: saving one
        # moves nothing of theirs until it appears.
        seen = bool(was_public) or self.is_shown
        with changes.batch():
            super().save(*args, **kwargs)
            changes.announce(self.story_id, StoryChange.Kind.ENTRY, render=[self], seen=seen)
            if self.photo:
                # Its renditions are made after the answer (a no-op once they exist).
                transaction.on_commit(renditions.wake, robust=True)
            if old and old["story_id"] != self.story_id:
                # Readers of the story it left must drop it.
                changes.announce(
                    old["story_id"], StoryChange.Kind.ENTRY_REMOVED, entry_ids=[self.pk]
                )

    def get_absolute_url(self):
        """The entry's own page: the story from this entry down."""
        return reverse("liveblog:entry", args=[self.story.slug, self.pk])

    def clean(self):
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
        """The photo's renditions for a responsive <picture>; the photo itself at its
        own size while they are being made (renditions.py); None when its file is
        missing (the page then shows a placeholder)."""
        if not self.photo:
            return None
        renditions = list(Rendition.objects.filter(source=self.photo.name))
        if not renditions:
            size = image_size(self.photo)
            if size is None:
                return None
            url, (width, height) = self.photo.url, size
            return {
                "webp": "",
                "fallback": f"{url} {width}w",
                "src": url,
                "width": width,
                "height": height,
            }

        def srcset(image_format):
            # A small photo is never scaled up: its renditions may share a width.
            widths = {r.width: r.file.url for r in renditions if r.format == image_format}
            return ", ".join(f"{url} {width}w" for width, url in sorted(widths.items()))

        largest = max((r for r in renditions if r.format != "WEBP"), key=lambda r: r.width)
        return {
            "webp": srcset("WEBP"),
            "fallback": srcset(largest.format),
            "src": largest.file.url,
            "width": largest.width,
            "height": largest.height,
        }

    @property
    def is_shown(self):
        """Published and its time come: on public pages when its story is public."""
        return self.status == self.Status.PUBLISHED and self.published_at <= timezone.now()

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
    def permalink(self):
        """The link readers copy and share: the entry's page, scrolled to the entry."""
        return f"{self.get_absolute_url()}#{self.anchor}"

    @property
    def cursor(self):
        return encode_cursor(self)

    @property
    def local_published_at(self):
        return local(self.published_at, self.story.tzinfo)

    def render_html(self):
        return render_to_string("liveblog/_entry.html", {"entry": self, "story": self.story})

    def refresh_html(self):
        """Re-render what is stored for readers, the public HTML and the structured
        data, after a change to the entry or its bylines.

        The change pipeline calls it for announced entries; readers are not told here.
        The entry's search index is written in the same UPDATE."""
        self.html = self.render_html()
        self.structured_data = entry_posting(self)
        Entry.objects.filter(pk=self.pk).update(
            html=self.html, structured_data=self.structured_data, **search.index_fields(self.story)
        )

    def search_extract(self):
        """(headline, extract) of a search result, highlighted: escaped HTML whose only
        tags are <mark>."""
        return search.extract(self)


class Rendition(models.Model):
    """A stored image scaled to one width in one format, made once and reused."""

    source = models.CharField(max_length=255, db_index=True)
    # The width asked for; a smaller photo is never scaled up, so ``width`` may be less.
    max_width = models.PositiveIntegerField()
    format = models.CharField(max_length=10)
    file = models.ImageField(upload_to=rendition_path, width_field="width", height_field="height")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "max_width", "format"], name="one_rendition_per_size"
            )
        ]

    def __str__(self):
        return f"{self.source} {self.max_width}w {self.format}"

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
                    source=image_file.name, max_width=width, format=fmt
                ).first()
                if existing is None:
                    made = make_rendition(image_file, width, fmt)
                    if made is None:
                        return []
                    content, _size = made
                    existing, _ = cls.objects.get_or_create(
                        source=image_file.name,
                        max_width=width,
                        format=fmt,
                        defaults={"file": ContentFile(content, name=f"rendition.{fmt.lower()}")},
                    )
                renditions.append(existing)
        return renditions
