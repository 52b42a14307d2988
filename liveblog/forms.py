"""The forms staff fill in: the admin's story, entry and person forms, the desk's compose
form and the login. Past 300 lines because each carries the checks that keep a bad value
out (revisions, ids, times, photos, lengths); split by form when one more joins."""

from datetime import UTC, datetime

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from . import permissions
from .dates import EARLIEST, LATEST, ap_time, fold_choices, in_range, wall_clock
from .images import check_image, clean_image
from .models import Entry, Person, Story
from .text import render_markdown

# The largest id a bigint column holds.
MAX_ID = 2**63 - 1


def is_id(value):
    text = str(value)
    # Its length first: int() refuses a string of more than 4,300 digits with a ValueError.
    digits = text.isascii() and text.isdigit() and len(text) <= len(str(MAX_ID))
    return digits and int(text) <= MAX_ID


class ChoiceIdsMixin:
    """Answer an id no database column can hold with a form error, not a 500.

    The choice fields would pass it to the database (SQLite raises OverflowError), and
    so would the widgets that redisplay the form: such ids are taken out of the data
    before either sees them.
    """

    choice_fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._bad_choices = []
        if self.is_bound and any(self.add_prefix(name) in self.data for name in self.choice_fields):
            self.data = self.data.copy()
            for name in self.choice_fields:
                key = self.add_prefix(name)
                values = self.data.getlist(key)
                if any(not is_id(v) for v in values):
                    self._bad_choices.append(name)
                    self.data.setlist(key, [v for v in values if is_id(v)])

    def clean(self):
        cleaned = super().clean()
        # A field the form leaves out (read-only for this user) takes no error: its value
        # was ignored anyway.
        for name in (name for name in self._bad_choices if name in self.fields):
            # One message: the id was taken out of the data, so a required field also
            # says "required", which is not what went wrong.
            self.errors.pop(name, None)
            self.add_error(name, "That is not one of the available choices.")
        return cleaned


class PhotoField(forms.ImageField):
    """Django's image field, giving our reason for refusing a file before its own.

    Django's check opens the image too, and says "not an image or a corrupted image" of
    anything Pillow will not open, a photo of too many pixels included.
    """

    def to_python(self, data):
        if isinstance(data, UploadedFile):
            check_image(data)
        return super().to_python(data)


class ImageUploadsMixin:
    """Re-encode uploaded images (upright, no metadata) once they pass the checks."""

    image_fields = ()

    def clean(self):
        cleaned = super().clean()
        for name in self.image_fields:
            upload = cleaned.get(name)
            if isinstance(upload, UploadedFile) and name not in self.errors:
                try:
                    cleaned[name] = clean_image(upload)
                except forms.ValidationError as error:
                    self.add_error(name, error)
        return cleaned


class WallClockField:
    """A time field that reads what was typed on the clock of the current zone (the
    story's) through dates.wall_clock: the hour that happens twice when clocks go back
    is a choice between its two readings, in words, and the hour they skip is refused
    in words, where Django says "ambiguous or may not exist"."""

    # Set per form from its data (WallClockTimesMixin): 0 or 1 picks a reading.
    fold = None
    # The typed time, when it happened twice and no reading was picked.
    ambiguous = None

    def read_on_clock(self, parse, value):
        if isinstance(value, datetime) and timezone.is_aware(value):
            return parse(value)
        zone = timezone.get_current_timezone()
        # Parsed as UTC, which has no such hour, then read on the zone's own clock.
        with timezone.override(UTC):
            parsed = parse(value)
        if parsed is None:
            return None
        naive = parsed.replace(tzinfo=None)
        try:
            return wall_clock(naive, zone, self.fold)
        except forms.ValidationError as error:
            if error.code == "ambiguous_time":
                self.ambiguous = (naive, zone)
            raise


class WallClockDateTimeField(WallClockField, forms.DateTimeField):
    def to_python(self, value):
        return self.read_on_clock(super().to_python, value)


class WallClockSplitDateTimeField(WallClockField, forms.SplitDateTimeField):
    def compress(self, data_list):
        return self.read_on_clock(super().compress, data_list)


class WallClockTimesMixin:
    """Offer the two readings of a time typed in the hour that happens twice: each
    field named in ``wall_clock_fields`` has a "<name>_fold" field, hidden until then."""

    wall_clock_fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.wall_clock_fields:
            if name not in self.fields:
                continue
            fold = self.data.get(self.add_prefix(f"{name}_fold")) if self.is_bound else None
            self.fields[name].fold = int(fold) if fold in ("0", "1") else None

    def clean(self):
        cleaned = super().clean()
        for name in self.wall_clock_fields:
            field = self.fields.get(name)
            if getattr(field, "ambiguous", None):
                naive, zone = field.ambiguous
                choice = self.fields[f"{name}_fold"]
                choice.choices = [(str(fold), words) for fold, words in fold_choices(naive, zone)]
                choice.widget = forms.RadioSelect(choices=choice.choices)
        return cleaned


def fold_field():
    return forms.TypedChoiceField(
        label="That time happens twice: which one?",
        choices=[("0", "first"), ("1", "second")],
        coerce=int,
        required=False,
        widget=UnlabelledHiddenInput,
    )


class StoredTimesMixin:
    """Open the form of an object whose stored time is out of range (older data, a fix
    made in SQL) with that time empty and a note, instead of failing to show it: the
    person opening the form is the one who can fix it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            value = self.initial.get(name)
            if isinstance(value, datetime) and not in_range(value):
                self.initial[name] = None
                field.help_text = (
                    "The time stored here is out of range and not shown: choose one between "
                    f"{EARLIEST.year} and {LATEST.year}."
                )


def check_bylines(form, user):
    """Refuse bylines ``user`` may not post under (see permissions.byline_refusal)."""
    if "authors" in form.fields and "authors" not in form.errors:
        authors = form.cleaned_data.get("authors") or []
        refusal = permissions.byline_refusal(user, authors)
        if refusal:
            # A login with no byline has none to tick: the form says so at its top.
            has_byline = getattr(user, "person", None) is not None
            form.add_error("authors" if has_byline else None, refusal)


class UnlabelledHiddenInput(forms.HiddenInput):
    """A hidden input that no label points at: the admin prints a label for every field
    of a fieldset, and HTML only lets a label's ``for`` name a control people can see."""

    def id_for_label(self, id_):
        return ""


class NoLostUpdatesForm(forms.ModelForm):
    """A form that refuses to overwrite a save made after it was opened.

    It carries the revision it was opened at. If the stored revision has moved on, the
    save is refused with what the other person changed, and the form keeps what this
    person typed; it now carries the new revision, so saving again means "keep mine".
    The model's UPDATE checks the revision once more, for two saves at the same moment.
    """

    compared_fields = ()

    revision = forms.IntegerField(widget=UnlabelledHiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            # A callable model default (the story's time zone) makes Django add a hidden
            # "initial" copy of the input that repeats its aria-describedby, which HTML
            # forbids on a hidden input; our forms compare with the stored object instead.
            field.show_hidden_initial = False
        if self.instance.pk:
            # Saving over an existing object must say which revision it was opened at.
            self.fields["revision"].required = True
            self.fields["revision"].error_messages["required"] = (
                "This form is out of date: open the page again to get the latest version."
            )
            # The stored revision, not the instance's: restoring an old revision from
            # the history opens the form on that revision's values.
            stored = type(self.instance)._base_manager.filter(pk=self.instance.pk)
            self.fields["revision"].initial = stored.values_list("revision", flat=True).first()

    def clean(self):
        cleaned = super().clean()
        opened_at = cleaned.get("revision")
        if self.instance.pk is None or opened_at is None:
            return cleaned
        model = type(self.instance)
        current = model._base_manager.filter(pk=self.instance.pk).first()
        if current is None or current.revision == opened_at:
            self.instance.expected_revision = opened_at
            return cleaned
        self.data = self.data.copy()
        self.data[self.add_prefix("revision")] = current.revision
        raise forms.ValidationError(self._conflict_message(current, opened_at), code="conflict")

    def _conflict_message(self, current, opened_at):
        noun = current._meta.verbose_name
        latest = current.history.first()
        who = "Someone"
        if latest is not None and latest.history_user is not None:
            user = latest.history_user
            who = getattr(getattr(user, "person", None), "name", None) or user.get_username()
        seen = current.history.filter(revision=opened_at).first()
        changed = []
        for name in self.compared_fields:
            if seen is None or getattr(seen, name) != getattr(current, name):
                label = current._meta.get_field(name).verbose_name
                value = str(getattr(current, name))
                changed.append(f"{label} (now “{value[:120]}{'…' if len(value) > 120 else ''}”)")
        when = ""
        if latest is not None:
            when = f" at {ap_time(latest.history_date, timezone.get_current_timezone())}"
        return (
            f"{who} saved this {noun}{when} while you were editing. They changed: "
            f"{'; '.join(changed) or 'nothing you can see'}. What you typed is kept below: "
            "compare it with theirs, then save again to keep yours."
        )


class EntryAdminForm(
    ChoiceIdsMixin, ImageUploadsMixin, StoredTimesMixin, WallClockTimesMixin, NoLostUpdatesForm
):
    image_fields = ("photo",)
    wall_clock_fields = ("published_at",)
    published_at_fold = fold_field()
    compared_fields = ("headline", "dateline", "body", "status", "published_at", "correction")
    choice_fields = ("story", "authors", "people")
    # Who is saving: EntryAdmin.get_form sets it, as the admin has no public way to pass
    # the request's user to its form. Until then, nobody: the form allows the least.
    user = AnonymousUser()

    class Meta:
        model = Entry
        # The most anyone may change; EntryAdmin shows these and leaves out, for a
        # reporter, those only an editor may change.
        fields = [
            "story",
            "status",
            "published_at",
            "headline",
            "dateline",
            "body",
            "correction",
            "photo",
            "photo_alt",
            "photo_caption",
            "photo_credit",
            "authors",
            "people",
        ]
        field_classes = {"photo": PhotoField}

    def clean(self):
        cleaned = super().clean()
        check_bylines(self, self.user)
        published_at = cleaned.get("published_at")
        if not permissions.is_editor(self.user) and self.instance.pk and published_at:
            stored = Entry.objects.public().filter(pk=self.instance.pk).exists()
            if stored and published_at > timezone.now():
                self.add_error(
                    "published_at",
                    "This entry is public: only an editor can move it into the future.",
                )
        return cleaned


class StoryAdminForm(StoredTimesMixin, NoLostUpdatesForm):
    compared_fields = ("headline", "slug", "status", "lede", "key_points_heading", "time_zone")

    class Meta:
        model = Story
        fields = [
            "headline",
            "slug",
            "status",
            "lede",
            "key_points_heading",
            "pinned_entry",
            "time_zone",
            "coverage_start",
            "coverage_end",
            "expected_end",
        ]


class DeskEntryForm(ChoiceIdsMixin, ImageUploadsMixin, WallClockTimesMixin, forms.ModelForm):
    """The desk's compose form: the next update, seconds away."""

    image_fields = ("photo",)
    choice_fields = ("authors",)
    wall_clock_fields = ("published_at",)

    published_at = WallClockDateTimeField(
        label="Time",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Leave empty for now. A later time schedules the entry.",
    )
    authors = forms.ModelMultipleChoiceField(
        queryset=Person.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    submission_id = forms.UUIDField(widget=forms.HiddenInput)
    published_at_fold = fold_field()
    # The reader's question this entry answers, when opened from the desk's queue.
    answers = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput
    )

    class Meta:
        model = Entry
        fields = [
            "headline",
            "dateline",
            "body",
            "photo",
            "photo_alt",
            "photo_caption",
            "photo_credit",
            "authors",
            "published_at",
        ]
        field_classes = {"photo": PhotoField}
        widgets = {
            "headline": forms.TextInput(attrs={"autocomplete": "off"}),
            "dateline": forms.TextInput(attrs={"list": "recent-datelines", "autocomplete": "off"}),
            "body": forms.Textarea(attrs={"rows": 8}),
        }

    def __init__(self, *args, story, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.story = story
        self.user = user
        # Bylines are staff: the people with a login, a short list even in a big newsroom.
        self.fields["authors"].queryset = Person.objects.filter(user__isnull=False)
        self.fields["published_at"].widget.attrs["step"] = 60

    def clean_published_at(self):
        # The desk reads times in the story's zone (it activates it), as readers see them.
        return self.cleaned_data.get("published_at") or timezone.now()

    def clean(self):
        cleaned = super().clean()
        check_bylines(self, self.user)
        return cleaned

    def preview_entry(self):
        """An unsaved entry as the form describes it, for the preview."""
        data = {name: self.cleaned_data.get(name) for name in ("headline", "dateline", "body")}
        entry = Entry(story=self.story, published_at=self.cleaned_data.get("published_at"), **data)
        entry.body_html = render_markdown(entry.body or "")
        entry.pk = 0  # not saved yet: its anchor and permalink need some id
        return entry


class PersonAdminForm(ImageUploadsMixin, forms.ModelForm):
    image_fields = ("photo",)

    class Meta:
        model = Person
        fields = ["name", "slug", "title", "bio", "photo", "user"]
        field_classes = {"photo": PhotoField}


class LoginForm(AdminAuthenticationForm):
    """The admin's login form, which refuses a username no account can have before any
    backend sees it.

    Django gives the username field its max_length after building it, which reaches the
    HTML but not validation; a longer username went on to authenticate(), where
    django-axes stores every failed one in a varchar(255): a 500 on PostgreSQL
    (jazzband/django-axes#1381). It gets the answer any unknown username gets.
    """

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if len(username) > self.username_field.max_length:
            raise self.get_invalid_login_error()
        return super().clean()
