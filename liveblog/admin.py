from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from .forms import EntryAdminForm, is_id
from .models import Entry, KeyPoint, Person, Story
from .templatetags.liveblog import ap_date, ap_time


def is_editor(user):
    return user.has_perm("liveblog.change_any_entry")


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "user"]
    search_fields = ["name", "title"]
    prepopulated_fields = {"slug": ["name"]}
    raw_id_fields = ["user"]


class KeyPointInline(admin.TabularInline):
    model = KeyPoint
    fields = ["position", "text", "pinned", "entry"]
    raw_id_fields = ["entry"]
    extra = 1
    ordering = ["position", "id"]


@admin.register(Story)
class StoryAdmin(admin.ModelAdmin):
    list_display = ["headline", "status", "updated_at", "add_entry_link"]
    list_filter = ["status"]
    search_fields = ["headline", "slug"]
    prepopulated_fields = {"slug": ["headline"]}
    readonly_fields = ["add_entry_link", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["headline", "slug", "status", "add_entry_link"]}),
        ("Top of the page", {"fields": ["lede", "key_points_heading"]}),
        (
            "Time",
            {"fields": ["time_zone", "coverage_start", "coverage_end", "created_at", "updated_at"]},
        ),
    ]
    inlines = [KeyPointInline]

    @admin.display(description="Post")
    def add_entry_link(self, story):
        if story.pk is None:
            return "Save the story first."
        url = reverse("admin:liveblog_entry_add") + f"?story={story.pk}"
        return format_html('<a class="button" href="{}">Add an entry to this story</a>', url)


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    form = EntryAdminForm
    list_display = ["headline", "story", "shown_at", "bylines"]
    list_filter = ["story__status", "story"]
    list_select_related = ["story"]
    search_fields = ["headline", "dateline", "body"]
    autocomplete_fields = ["story", "authors", "people"]
    fields = ["story", "published_at", "headline", "dateline", "body", "authors", "people"]
    date_hierarchy = "published_at"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("authors")

    @admin.display(description="time", ordering="published_at")
    def shown_at(self, entry):
        tz = entry.story.tzinfo
        return f"{ap_date(entry.published_at, tz)}, {ap_time(entry.published_at, tz)}"

    @admin.display(description="by")
    def bylines(self, entry):
        return ", ".join(author.name for author in entry.authors.all())

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and self._may_edit(request, obj)

    def get_actions(self, request):
        # Bulk delete checks no object permission, so only editors get it.
        actions = super().get_actions(request)
        if not is_editor(request.user):
            actions.pop("delete_selected", None)
        return actions

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        # Links carry ?story=<id>; anything else in the query string is ignored.
        initial = {"story": initial["story"]} if is_id(initial.get("story", "")) else {}
        initial["published_at"] = timezone.now()
        person = getattr(request.user, "person", None)
        if person is not None and "authors" not in initial:
            initial["authors"] = [person.pk]
        return initial

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

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

    def _may_edit(self, request, obj):
        if obj is None or is_editor(request.user):
            return True
        return Entry.objects.editable_by(request.user).filter(pk=obj.pk).exists()

    def _story_for(self, request, object_id):
        if object_id:
            return (
                Story.objects.filter(entries__pk=object_id).first() if object_id.isdigit() else None
            )
        story_id = request.POST.get("story") or request.GET.get("story")
        if story_id and str(story_id).isdigit():
            return Story.objects.filter(pk=story_id).first()
        return None
