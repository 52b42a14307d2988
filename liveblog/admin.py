"""The staff admin: one declarative class per model. Kept in one module, as Django's
contrib apps keep theirs, although it passes 400 lines: the field lists of the story and
entry admins, and the base classes every admin shares (one change per story, no lost
updates, malformed ids and date lookups answered, never a 500); splitting them would
scatter what a newcomer reads together. Permissions come from permissions.py, workflows
from services.py, and every save reaches readers as one change per story (changes.py).
"""

import datetime

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Max, Min
from django.http import Http404, HttpResponseBadRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from simple_history.admin import SimpleHistoryAdmin
from two_factor.plugins.webauthn.models import WebauthnDevice

from . import changes, services
from .admin_lists import ArchiveListAdmin, CoverageDayFilter, StoryFilter, staff_search
from .dates import EARLIEST, LATEST, OUT_OF_RANGE, ap_datetime, in_range
from .forms import (
    EntryAdminForm,
    PersonAdminForm,
    StoryAdminForm,
    WallClockSplitDateTimeField,
    is_id,
)
from .models import (
    AuditEvent,
    EditConflict,
    Entry,
    KeyPoint,
    Person,
    StaffLogin,
    Story,
    Submission,
)
from .permissions import can_edit_entry, is_editor


def is_date(year, month, day):
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def staff_time(value, tz):
    """A time in the admin: AP style in the zone ``tz``, or a note when it is out of range."""
    if value is None:
        return "-"
    return ap_datetime(value, tz) or "out of range"


# What the date drill-down (date_hierarchy) may ask for: ?<field>__year=…&…__month=…
DRILL_DOWN = {"year": (EARLIEST.year, LATEST.year), "month": (1, 12), "day": (1, 31)}


class DateLookupsChangeList(ChangeList):
    """A change list that answers a date in its query string that is out of range, or
    that Python cannot make (?published_at__year=99999999999, ?created_at__year=9999,
    whose next year is 10000), as a bad lookup: the admin shows the list unfiltered
    (?e=1), never a 500. The drill-down's parameters are checked on every date field,
    with or without a drill-down (links made before the archive's lists dropped theirs
    still filter). Its date drill-down steps aside while the list holds a time stored
    out of range."""

    def get_filters(self, request):
        date_fields = {
            field.name
            for field in self.model._meta.get_fields()
            if isinstance(field, models.DateField)
        }
        for name in request.GET:
            field_name, _, part = name.rpartition("__")
            if part not in DRILL_DOWN or field_name not in date_fields:
                continue
            low, high = DRILL_DOWN[part]
            for value in request.GET.getlist(name):
                # The length first: int() refuses more than 4,300 digits with a ValueError.
                digits = value.isascii() and value.isdigit() and len(value) <= 4
                if not (digits and low <= int(value) <= high):
                    self.model_admin.message_user(request, OUT_OF_RANGE, messages.ERROR)
                    raise IncorrectLookupParameters(f"{part} {value!r} is out of range")
        for field_name in date_fields:
            # A day the calendar lacks (Feb. 30), as the drill-down would refuse it.
            parts = [request.GET.get(f"{field_name}__{part}") for part in DRILL_DOWN]
            if all(parts) and not is_date(*map(int, parts)):
                self.model_admin.message_user(request, OUT_OF_RANGE, messages.ERROR)
                raise IncorrectLookupParameters(f"{'-'.join(parts)} is no date")
        return super().get_filters(request)

    def get_results(self, request):
        try:
            super().get_results(request)
        except (OverflowError, ValueError) as error:
            # A lookup on a date field of the model's own, which Django lets through
            # unchecked until the query is made.
            raise IncorrectLookupParameters(error) from error
        if self.date_hierarchy and not request.GET.get(f"{self.date_hierarchy}__year"):
            # The drill-down converts every time listed to the admin's zone, which a
            # time stored out of range cannot survive on SQLite: show the list without it.
            span = self.queryset.aggregate(
                first=Min(self.date_hierarchy), last=Max(self.date_hierarchy)
            )
            if not all(in_range(value) for value in span.values() if value is not None):
                self.date_hierarchy = None


class DateLookupsAdmin(admin.ModelAdmin):
    """The change list of every admin here, and of django-axes' below (see
    DateLookupsChangeList)."""

    def get_changelist(self, request, **kwargs):
        return DateLookupsChangeList


class OneChangePerStoryAdmin(DateLookupsAdmin, SimpleHistoryAdmin):
    """Admin whose saves reach readers as one change per story and request: a form with
    its inlines and bylines, an action on many rows, a delete and what it cascades to
    (see changes.py)."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        with changes.batch():
            return super().changeform_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        if request.method != "POST":  # only a POST runs actions or saves list edits
            return super().changelist_view(request, extra_context)
        # Django filters the rows with the ticked ids unchecked: "abc" was a 500.
        if not all(map(is_id, request.POST.getlist(helpers.ACTION_CHECKBOX_NAME))):
            return HttpResponseBadRequest("Only rows of this list can be selected.")
        with changes.batch():
            return super().changelist_view(request, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        with changes.batch():
            return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        require_pk(self.model, unquote(object_id))
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        require_pk(self.model, unquote(object_id))
        require_pk(self.model.history.model, version_id)
        with changes.batch():
            return super().history_form_view(request, object_id, version_id, extra_context)


def require_pk(model, value):
    """404 unless ``value`` can be a primary key of ``model``.

    simple-history's views hand the ids of their URLs to the database unchecked, so
    "abc" was a 500; Django's own admin views answer such ids as missing objects.
    """
    try:
        model._meta.pk.to_python(value)
    except ValidationError:
        raise Http404 from None


class NoLostUpdatesAdmin(OneChangePerStoryAdmin):
    """Admin for a model whose form refuses to overwrite a newer save (NoLostUpdatesForm)."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        # "revision" is the form's own hidden field; the model keeps it out of forms.
        fields = kwargs.pop("fields", None) or flatten_fieldsets(self.get_fieldsets(request, obj))
        kwargs["fields"] = [name for name in fields if name != "revision"]
        return super().get_form(request, obj, change, **kwargs)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple-history lets anyone who may *view* the object post its revert form.
        # It also writes every field of the old revision, including those a reporter
        # may not touch (story, status, correction): restoring is for editors.
        if request.method == "POST":
            obj = self.get_object(request, unquote(object_id))
            allowed = obj is not None and self.has_change_permission(request, obj)
            if not (allowed and is_editor(request.user)):
                raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except EditConflict:
            # Someone saved between this form's check and its UPDATE: the transaction was
            # rolled back; showing the form again runs the check, which now sees it.
            return super().changeform_view(request, object_id, form_url, extra_context)


@admin.register(Person)
class PersonAdmin(ArchiveListAdmin, OneChangePerStoryAdmin):
    form = PersonAdminForm
    list_display = ["name", "title", "user"]
    list_select_related = ["user"]  # Django's default join skips a nullable key: a query a row
    search_fields = ["name", "title"]
    prepopulated_fields = {"slug": ["name"]}
    raw_id_fields = ["user"]


class KeyPointInline(admin.TabularInline):
    model = KeyPoint
    fields = ["position", "text", "pinned", "entry"]
    raw_id_fields = ["entry"]
    extra = 1
    ordering = ["position", "id"]

    def get_formset(self, request, obj=None, **kwargs):
        # Django builds as many forms as the posted count says, up to 2,000: a crafted
        # count cost six seconds of a worker's time. The story's key points and room for
        # a hundred more are enough.
        bound = (obj.key_points.count() if obj else 0) + 100
        return super().get_formset(request, obj, max_num=bound, absolute_max=bound, **kwargs)


@admin.register(Story)
class StoryAdmin(ArchiveListAdmin, NoLostUpdatesAdmin):
    form = StoryAdminForm
    list_display = ["headline", "status", "updated", "add_entry_link"]
    list_filter = ["status"]
    search_fields = ["headline", "slug"]
    prepopulated_fields = {"slug": ["headline"]}
    readonly_fields = ["add_entry_link", "preview_link", "created", "updated"]
    raw_id_fields = ["pinned_entry"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "headline",
                    "slug",
                    "status",
                    "language",
                    "add_entry_link",
                    "preview_link",
                    "revision",
                ]
            },
        ),
        ("Top of the page", {"fields": ["lede", "key_points_heading", "pinned_entry"]}),
        (
            "Time",
            {
                "fields": [
                    "time_zone",
                    "coverage_start",
                    "coverage_end",
                    "expected_end",
                    "created",
                    "updated",
                ]
            },
        ),
    ]
    inlines = [KeyPointInline]

    @admin.display(description="created at")
    def created(self, story):
        return staff_time(story.created_at, story.tzinfo)

    @admin.display(description="updated at", ordering="updated_at")
    def updated(self, story):
        return staff_time(story.updated_at, story.tzinfo)

    @admin.display(description="Post")
    def add_entry_link(self, story):
        if story.pk is None:
            return "Save the story first."
        url = reverse("admin:liveblog_entry_add") + f"?story={story.pk}"
        desk = reverse("liveblog:desk", args=[story.slug])
        if story.status == Story.Status.ENDED:
            return format_html('<a class="button" href="{}">Add an entry to this story</a>', url)
        return format_html(
            '<a class="button" href="{}">Open the live desk</a> <a href="{}">Add an entry here</a>',
            desk,
            url,
        )

    @admin.display(description="Preview")
    def preview_link(self, story):
        if story.pk is None:
            return "-"
        url = reverse("liveblog:story_preview", args=[story.slug])
        return format_html('<a href="{}">Preview with drafts and scheduled entries</a>', url)

    def get_changeform_initial_data(self, request):
        # Nothing links here with values, and the admin would take any field's from the
        # query string: a time it cannot show (?coverage_start=abc) was a 500.
        return {}

    def change_view(self, request, object_id, form_url="", extra_context=None):
        story = self.get_object(request, unquote(object_id))
        if story is not None:
            src = request.build_absolute_uri(reverse("liveblog:embed", args=[story.slug]))
            # Escaped: a headline is typed by staff, and a quote in it would end the
            # attribute in the partner's page.
            snippet = format_html(
                '<iframe src="{}" title="{} (live updates)" '
                'width="100%" height="600" loading="lazy" style="border:0"></iframe>',
                src,
                story.headline,
            )
            extra_context = {**(extra_context or {}), "embed_snippet": snippet}
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        old = (
            Story.objects.filter(pk=obj.pk).values("status", "pinned_entry_id").first()
            if change
            else None
        )
        super().save_model(request, obj, form, change)
        services.story_audit(
            story=obj,
            user=request.user,
            old_status=old["status"] if old else None,
            old_pinned_id=old["pinned_entry_id"] if old else None,
        )


@admin.register(Entry)
class EntryAdmin(ArchiveListAdmin, NoLostUpdatesAdmin):
    form = EntryAdminForm
    list_display = ["headline", "state", "shown_at", "story", "bylines"]
    # No date drill-down: it reads every entry's date to list the years and months.
    list_filter = ["status", "story__status", StoryFilter, ("published_at", CoverageDayFilter)]
    list_select_related = ["story"]
    # What staff search matches: see get_search_results.
    search_fields = ["headline", "dateline"]
    search_help_text = "An entry's number, or how its headline or dateline begins."
    autocomplete_fields = ["story", "authors", "people"]
    fields = [
        *EntryAdminForm.Meta.fields[:3],
        "published_at_fold",  # hidden unless the time typed happened twice (forms.py)
        *EntryAdminForm.Meta.fields[3:],
        "preview_link",
        "revision",
    ]
    readonly_fields = ["preview_link"]
    # The admin's split date and time, read on the story's clock (forms.WallClockField).
    formfield_overrides = {models.DateTimeField: {"form_class": WallClockSplitDateTimeField}}
    actions = ["publish_selected", "unpublish_selected", "pin_to_story"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("authors")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "story":
            # Django's autocomplete leaves a required select without the empty option
            # HTML asks of a required select: not "required" in the markup, then; the
            # form still refuses an entry without a story.
            field.widget.use_required_attribute = lambda initial: False
        return field

    def get_search_results(self, request, queryset, search_term):
        # Staff search has one home, admin_lists.staff_search: no scan of every body.
        return staff_search(queryset, search_term), False

    @admin.display(description="time", ordering="published_at")
    def shown_at(self, entry):
        return staff_time(entry.published_at, entry.story.tzinfo)

    @admin.display(description="state", ordering="status")
    def state(self, entry):
        return entry.state_label

    @admin.display(description="by")
    def bylines(self, entry):
        return ", ".join(author.name for author in entry.authors.all())

    @admin.display(description="Preview")
    def preview_link(self, entry):
        if entry.pk is None:
            return "Save first to preview."
        url = reverse("liveblog:entry_preview", args=[entry.story.slug, entry.pk])
        return format_html('<a href="{}">See it as readers will</a>', url)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.user = request.user  # a class made for this request: see EntryAdminForm.user
        return form

    def get_readonly_fields(self, request, obj=None):
        # Left out of the form, these cannot be changed by any POST a reporter sends.
        fields = list(super().get_readonly_fields(request, obj))
        if not is_editor(request.user):
            fields.append("correction")
            if obj is not None:
                fields.append("story")
                if Entry.objects.public().filter(pk=obj.pk).exists():
                    fields.append("status")  # only an editor unpublishes
        return fields

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or can_edit_entry(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or can_edit_entry(request.user, obj))

    def get_actions(self, request):
        # Bulk actions check no object permission, so only editors get them: ours ask
        # for the "editor" permission below; Django's delete_selected is removed here.
        actions = super().get_actions(request)
        if not is_editor(request.user):
            actions.pop("delete_selected", None)
        return actions

    def has_editor_permission(self, request):
        return is_editor(request.user)

    @admin.action(description="Publish the selected entries", permissions=["editor"])
    def publish_selected(self, request, queryset):
        for entry in queryset.select_related("story"):
            services.entry_set_status(entry=entry, status=Entry.Status.PUBLISHED, user=request.user)

    @admin.action(description="Unpublish the selected entries", permissions=["editor"])
    def unpublish_selected(self, request, queryset):
        for entry in queryset.select_related("story"):
            services.entry_set_status(entry=entry, status=Entry.Status.DRAFT, user=request.user)

    @admin.action(description="Pin the selected entry above its story", permissions=["editor"])
    def pin_to_story(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose one entry to pin.", messages.ERROR)
            return
        entry = queryset.select_related("story").get()
        services.story_pin_entry(story=entry.story, entry=entry, user=request.user)
        self.message_user(request, f"Pinned “{entry.headline}” above the story.")

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        # Links carry ?story=<id>; anything else in the query string is ignored.
        initial = {"story": initial["story"]} if is_id(initial.get("story", "")) else {}
        initial["published_at"] = timezone.now()
        person = getattr(request.user, "person", None)
        if person is not None:
            initial["authors"] = [person.pk]
        return initial

    def save_model(self, request, obj, form, change):
        if not change:
            # Its bylines follow in save_related, with the form's other many-to-many
            # fields, in the same batch (see OneChangePerStoryAdmin).
            services.entry_create(entry=obj, user=request.user)
            return
        old = Entry.objects.filter(pk=obj.pk).values("status", "published_at").first()
        super().save_model(request, obj, form, change)
        services.entry_audit(entry=obj, user=request.user, old=old)

    def response_add(self, request, obj, post_url_continue=None):
        if "_addanother" in request.POST:
            self.message_user(request, f"Posted “{obj.headline}”. Add the next one.")
            return HttpResponseRedirect(
                reverse("admin:liveblog_entry_add") + f"?story={obj.story_id}"
            )
        return super().response_add(request, obj, post_url_continue)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Show and read the entry's time in its story's zone, as readers will see it.
        story = self._story_for(request, object_id)
        with timezone.override(story.tzinfo if story else None):
            return super().changeform_view(request, object_id, form_url, extra_context)

    def _story_for(self, request, object_id):
        if object_id:
            return Story.objects.filter(entries__pk=object_id).first() if is_id(object_id) else None
        story_id = request.POST.get("story") or request.GET.get("story")
        if story_id and is_id(story_id):
            return Story.objects.filter(pk=story_id).first()
        return None


@admin.register(AuditEvent)
class AuditEventAdmin(ArchiveListAdmin, DateLookupsAdmin):
    """The editors' log: read-only, written by the workflow itself. No date drill-down:
    it reads every line's date to list the years and months."""

    list_display = ["logged_at", "user", "action", "detail", "story"]
    fields = ["logged_at", "user", "action", "detail", "story", "entry"]
    readonly_fields = ["logged_at"]
    list_filter = ["action", StoryFilter]
    list_select_related = ["user", "story"]

    @admin.display(description="time", ordering="created_at")
    def logged_at(self, event):
        return staff_time(
            event.created_at, event.story.tzinfo if event.story else settings.TIME_ZONE
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Submission)
class SubmissionAdmin(DateLookupsAdmin):
    """Readers' questions and tips: read here, decided at the desk. Deleting one is how a
    reader's request to be forgotten is met; e-mail addresses also expire by themselves
    (manage.py expire_submission_emails)."""

    list_display = ["sent_at", "story", "status", "short_text", "name", "email"]
    fields = ["sent_at", "story", "status", "text", "name", "email", "answer", "decided_by"]
    readonly_fields = fields
    list_filter = ["status", "story"]
    list_select_related = ["story"]
    search_fields = ["text", "name", "email"]
    date_hierarchy = "created_at"

    @admin.display(description="sent", ordering="created_at")
    def sent_at(self, submission):
        return staff_time(submission.created_at, submission.story.tzinfo)

    @admin.display(description="question or tip")
    def short_text(self, submission):
        return str(submission)

    def changelist_view(self, request, extra_context=None):
        # As OneChangePerStoryAdmin: a ticked id no column holds is a 400, not a 500.
        ticked = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if request.method == "POST" and not all(map(is_id, ticked)):
            return HttpResponseBadRequest("Only rows of this list can be selected.")
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# django-axes' logs of login attempts have a date drill-down too: the same guard.
for axes_model in (AccessAttempt, AccessLog, AccessFailureLog):
    if admin.site.is_registered(axes_model):
        axes_admin = type(admin.site.get_model_admin(axes_model))
        admin.site.unregister(axes_model)
        admin.site.register(
            axes_model, type(axes_admin.__name__, (DateLookupsAdmin, axes_admin), {})
        )


@admin.register(StaffLogin)
class StaffLoginAdmin(admin.ModelAdmin):
    """Who has enrolled a second factor, for editors; the reset for a colleague who lost
    theirs (their sessions end too, and their next sign-in enrols a new factor)."""

    list_display = ["username", "full_name", "second_factors", "last_login", "is_active"]
    list_filter = ["is_active", "groups"]
    search_fields = ["username", "first_name", "last_name"]
    fields = ["username", "full_name", "second_factors", "last_login"]
    readonly_fields = fields
    actions = ["reset_second_factors"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(is_staff=True)

    @admin.display(description="name")
    def full_name(self, user):
        return user.get_full_name()

    @admin.display(description="second factors")
    def second_factors(self, user):
        devices = [type(d)._meta.verbose_name for d in devices_for_user(user, confirmed=True)]
        return ", ".join(devices) or "none: not enrolled"

    @admin.action(description="Reset the second factors of the selected logins")
    def reset_second_factors(self, request, queryset):
        if not self.has_change_permission(request):
            raise PermissionDenied
        for user in queryset:
            services.second_factors_reset(user=user, by=request.user)
        self.message_user(request, f"Reset {len(queryset)} login(s): each enrols again.")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# django-otp and the WebAuthn plugin register an admin for each kind of device, whose
# pages show a TOTP secret as a QR code to whoever opens them: a second factor is its
# owner's alone. Editors see who has one and reset them above.
for device_model in (StaticDevice, TOTPDevice, WebauthnDevice):
    admin.site.unregister(device_model)
