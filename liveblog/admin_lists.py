"""What keeps the admin's lists as fast over a newsroom's archive (a million entries,
thousands of stories and people) as over one story: counts that stop early or estimate,
a story filter that does not list every story, no facet counts, and staff search on
small fields. admin.py declares which list uses what; the indexes that match each
list's order and filters are in the models.
"""

from datetime import UTC, datetime, time, timedelta

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters, ShowFacets
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import cached_property
from django.utils.html import format_html

from .dates import EARLIEST, LATEST, ap_date, in_range, local_day
from .forms import is_id
from .models import Story


class ArchivePaginator(Paginator):
    """Pages of a list that may hold millions of rows, without counting them all.

    PostgreSQL keeps no row count: counting a million entries reads them all, on every
    view of the list. This counts at most ``limit`` + 1 rows and pages through the first
    ``limit`` (a filter or a search narrows the rest); an unfiltered list on PostgreSQL
    says the planner's estimate of the table's size instead ("about 1,000,000").
    """

    # 40 pages of 50: past that, a filter or a search finds a row sooner. Each row a
    # common search's count reads costs about 3 µs on PostgreSQL, so 10,000 cost 30 ms.
    limit = 2_000

    @cached_property
    def found(self):
        """Rows counted, at most ``limit`` + 1: more than ``limit`` means "more".
        Unordered: in the list's order, the database would walk its index until it has
        found ``limit`` rows, reading every row a search skips."""
        return self.object_list.order_by()[: self.limit + 1].count()

    @cached_property
    def count(self):
        # What the page links reach; the change list's "result_count".
        return min(self.found, self.limit)

    @cached_property
    def estimate(self):
        """The table's estimated row count for an unfiltered list on PostgreSQL (kept by
        ANALYZE and autovacuum), or None."""
        query = self.object_list.query
        if connection.vendor != "postgresql" or query.has_filters() or self.found <= self.limit:
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [self.object_list.model._meta.db_table],
            )
            row = cursor.fetchone()
        return row[0] if row and row[0] > self.limit else None

    @property
    def total_label(self):
        """How many rows the list holds, as the change list says it."""
        if self.found <= self.limit:
            return f"{self.found:,}"
        if self.estimate is not None:
            return f"about {self.estimate:,}"
        return f"more than {self.limit:,}"


class ArchiveListAdmin(admin.ModelAdmin):
    """A change list that stays fast at archive size: see ArchivePaginator. Facet counts
    (?_facets) would count every row once per filter choice, so they are off."""

    paginator = ArchivePaginator
    show_full_result_count = False
    show_facets = ShowFacets.NEVER
    # Rendering a row costs more than reading it: the newest 50 are a page's worth.
    list_per_page = 50

    def action_checkbox(self, obj):
        # Django renders each row's checkbox through the form template engine, a third
        # of the list's time; the same markup, made directly.
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" '
            'aria-label="Select this object for an action - {}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            obj,
        )

    @property
    def media(self):
        media = super().media
        if StoryFilter in self.list_filter:
            # The story filter's autocomplete box (select2, as on the entry form).
            field = self.model._meta.get_field("story")
            media += AutocompleteSelect(field, self.admin_site).media
        return media


class StoryChooser(AutocompleteSelect):
    """Django's autocomplete box, its empty choice named: HTML asks an option for text."""

    def create_option(self, name, value, label, *args, **kwargs):
        return super().create_option(name, value, label or "Any story", *args, **kwargs)


class StoryFilter(admin.ListFilter):
    """Filter by story without listing thousands of them: the story chosen, the live
    ones, and an autocomplete box (Django's own, the entry form's) for any other.
    Takes the parameter Django's related-field filter took, so links keep working."""

    title = "story"
    parameter_name = "story__id__exact"
    template = "admin/liveblog/story_filter.html"
    live_shown = 10

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.model_admin = model_admin
        self.field = model._meta.get_field("story")
        values = params.pop(self.parameter_name, None)
        self.value = values[-1] if values else ""
        if self.value:
            if not is_id(self.value):
                raise IncorrectLookupParameters(f"{self.value!r} is not a story")
            self.used_parameters[self.parameter_name] = self.value

    def has_output(self):
        return True

    def expected_parameters(self):
        return [self.parameter_name]

    def queryset(self, request, queryset):
        return queryset.filter(story_id=self.value) if self.value else queryset

    def choices(self, changelist):
        chosen = Story.objects.filter(pk=self.value).first() if self.value else None
        live = Story.objects.filter(status=Story.Status.LIVE).order_by("-updated_at", "-id")
        stories = [chosen] if chosen else []
        stories += [story for story in live[: self.live_shown] if story != chosen]
        yield {
            "selected": not self.value,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "All",
        }
        for story in stories:
            yield {
                "selected": story == chosen,
                "query_string": changelist.get_query_string({self.parameter_name: story.pk}),
                "display": story.headline,
            }
        # The autocomplete box's form keeps the list's other parameters.
        self.other_params = [
            (name, value)
            for name, value in changelist.params.items()
            if name not in (self.parameter_name, "p", "e")
        ]
        self.chooser = self._chooser(chosen)

    def _chooser(self, chosen):
        widget = StoryChooser(self.field, self.model_admin.admin_site)
        # The select holds the chosen story only; the box asks the server for others.
        options = Story.objects.filter(pk=chosen.pk) if chosen else Story.objects.none()
        field = forms.ModelChoiceField(options, required=False, widget=widget)
        value = chosen.pk if chosen else None
        return field.widget.render(self.parameter_name, value, {"id": f"id_{self.parameter_name}"})


class CoverageDayFilter(admin.DateFieldListFilter):
    """Django's date filter (today, the past 7 days, this month, this year: ranges of
    the time field, which its index answers without reading every row, unlike the
    drill-down's list of years and months), and, once a story is chosen, each day of
    that story's coverage in its own time zone, newest first."""

    days_shown = 14

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = "day"
        story_id = request.GET.get(StoryFilter.parameter_name, "")
        story = None
        if is_id(story_id):
            fields = ("time_zone", "coverage_start", "coverage_end", "created_at")
            story = Story.objects.only(*fields).filter(pk=story_id).first()
        if story is not None:
            any_date, *periods = self.links
            self.links = (any_date, *self.coverage_days(story), *periods)

    def queryset(self, request, queryset):
        for name in (self.lookup_kwarg_since, self.lookup_kwarg_until):
            if name in self.used_parameters:
                self.used_parameters[name] = [
                    self.moment(value) for value in self.used_parameters[name]
                ]
        return super().queryset(request, queryset)

    @staticmethod
    def moment(value):
        """The time a link of this filter names: a date or a time, aware (a typed one
        without an offset in the admin's zone, as Django's periods are), in range; or
        IncorrectLookupParameters, and the admin shows the list unfiltered."""
        try:
            moment = parse_datetime(value)
            if moment is None and (day := parse_date(value)) is not None:
                moment = datetime.combine(day, time.min)
            if moment is not None and timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
            if moment is not None and in_range(moment):
                return moment
        except (OverflowError, ValueError):
            pass  # a day the calendar lacks, or a time Python cannot convert
        raise IncorrectLookupParameters(f"{value[:40]!r} is no time in range")

    def coverage_days(self, story):
        """(label, range) of the days the story covered (or has so far), newest first."""
        zone = story.tzinfo

        def day_of(moment):
            # A time stored past the range (in SQL: year 9999, say) counts as its bound,
            # so the day after it or its midnight in UTC is still a date Python holds.
            return local_day(min(max(moment, EARLIEST), LATEST), zone)

        first = day_of(story.coverage_start or story.created_at)
        day = day_of(story.coverage_end or timezone.now())
        days = []
        while day >= first and len(days) < self.days_shown:
            start = datetime.combine(day, time.min, tzinfo=zone)
            end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
            span = {
                self.lookup_kwarg_since: start.astimezone(UTC),
                self.lookup_kwarg_until: end.astimezone(UTC),
            }
            days.append((ap_date(start, zone), span))
            day -= timedelta(days=1)
        return days


def staff_search(queryset, term):
    """Entries a staff search for ``term`` finds: the entry with that id, or those whose
    headline or dateline starts with it (case aside). Small fields and an index on each
    on PostgreSQL, never a scan of every body.

    The admin's one home for staff search (EntryAdmin.get_search_results).
    """
    term = term.strip()
    if is_id(term.lstrip("#")):
        return queryset.filter(pk=int(term.lstrip("#")))
    if not term:
        return queryset
    return queryset.filter(Q(headline__istartswith=term) | Q(dateline__istartswith=term))
