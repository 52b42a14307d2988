"""dates.py: AP style in the story's zone, the range of times anyone may enter (every
form, every query parameter), and what happens to a time already stored out of it: the
table test at the end reads every page that shows one."""

import io
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, models
from django.test import RequestFactory

from liveblog.dates import (
    OUT_OF_RANGE,
    TOO_EARLY,
    TOO_LATE,
    ap_date,
    ap_datetime,
    ap_time,
    local_day,
    validate_in_range,
)
from liveblog.forms import DeskEntryForm
from liveblog.models import Entry, Story

from .factories import STORED_OUT_OF_RANGE, EntryFactory, StoryFactory, store_out_of_range

EASTERN = "America/New_York"
POSTGRES = connection.vendor == "postgresql"


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        (datetime(2020, 1, 7, 5, 0, tzinfo=UTC), "12:00 a.m."),  # midnight, the seed's newest entry
        (datetime(2020, 1, 7, 4, 15, tzinfo=UTC), "11:15 p.m."),
        (datetime(2020, 1, 6, 21, 55, tzinfo=UTC), "4:55 p.m."),
        (datetime(2020, 1, 6, 17, 0, tzinfo=UTC), "12:00 p.m."),  # noon
        (datetime(2020, 1, 6, 14, 5, tzinfo=UTC), "9:05 a.m."),
    ],
)
def test_ap_time_formats_in_the_given_zone(utc, expected):
    assert ap_time(utc, EASTERN) == expected


def test_ap_time_across_spring_forward():
    # 2020-03-08: clocks jump from 1:59 a.m. EST to 3:00 a.m. EDT.
    assert ap_time(datetime(2020, 3, 8, 6, 59, tzinfo=UTC), EASTERN) == "1:59 a.m."
    assert ap_time(datetime(2020, 3, 8, 7, 0, tzinfo=UTC), EASTERN) == "3:00 a.m."


def test_ap_time_across_fall_back_shows_the_repeated_hour_twice():
    # 2020-11-01: 1:30 a.m. happens once in EDT and again in EST.
    assert ap_time(datetime(2020, 11, 1, 5, 30, tzinfo=UTC), EASTERN) == "1:30 a.m."
    assert ap_time(datetime(2020, 11, 1, 6, 30, tzinfo=UTC), EASTERN) == "1:30 a.m."


def test_ap_time_uses_the_story_zone_not_the_server_zone():
    assert ap_time(datetime(2020, 1, 7, 5, 0, tzinfo=UTC), "Asia/Baghdad") == "8:00 a.m."


def test_ap_date_changes_day_at_local_midnight():
    assert ap_date(datetime(2020, 1, 7, 4, 59, tzinfo=UTC), EASTERN) == "Monday, Jan. 6, 2020"
    assert ap_date(datetime(2020, 1, 7, 5, 0, tzinfo=UTC), EASTERN) == "Tuesday, Jan. 7, 2020"


def test_ap_date_abbreviates_months_ap_style():
    assert ap_date(datetime(2020, 9, 1, 16, 0, tzinfo=UTC), EASTERN) == "Tuesday, Sept. 1, 2020"
    assert ap_date(datetime(2020, 3, 3, 16, 0, tzinfo=UTC), EASTERN) == "Tuesday, March 3, 2020"


def test_ap_datetime_joins_date_and_time_in_the_zone():
    moment = datetime(2020, 1, 7, 5, 0, tzinfo=UTC)
    assert ap_datetime(moment, EASTERN) == "Tuesday, Jan. 7, 2020, 12:00 a.m."
    assert ap_datetime(None, EASTERN) == ""


# --- The range of times anyone may enter ---------------------------------------------


@pytest.mark.parametrize(
    "when", [datetime(1900, 1, 1, tzinfo=UTC), datetime(2999, 12, 31, 23, 59, tzinfo=UTC)]
)
def test_the_first_and_last_years_of_the_range_are_accepted(when):
    validate_in_range(when)


@pytest.mark.parametrize(
    "when", [datetime(1899, 12, 31, 23, 59, tzinfo=UTC), datetime(3000, 1, 1, tzinfo=UTC)]
)
def test_a_time_out_of_range_is_refused_with_a_message_naming_the_range(when):
    with pytest.raises(ValidationError) as refused:
        validate_in_range(when)
    assert refused.value.messages == [OUT_OF_RANGE]
    assert "between 1900 and 2999" in OUT_OF_RANGE


def forms_that_take_times(request):
    """Every model form the product serves (the admin's, their inlines', the desk's),
    with the model whose fields it edits."""
    found = [(Entry, DeskEntryForm)]
    for model in apps.get_app_config("liveblog").get_models():
        if not admin.site.is_registered(model):
            continue
        model_admin = admin.site.get_model_admin(model)
        found.append((model, model_admin.get_form(request)))
        for inline in model_admin.get_inline_instances(request):
            found.append((inline.model, inline.get_formset(request).form))
    return found


@pytest.mark.django_db
def test_every_time_a_form_takes_is_checked_against_the_range(editor):
    request = RequestFactory().get("/")
    request.user = editor
    checked, unchecked = set(), set()
    for model, form in forms_that_take_times(request):
        for field in model._meta.get_fields():
            if isinstance(field, models.DateTimeField) and field.name in form.base_fields:
                name = f"{model.__name__}.{field.name}"
                (checked if validate_in_range in field.validators else unchecked).add(name)
    assert not unchecked
    assert {"Story.coverage_start", "Story.coverage_end", "Entry.published_at"} <= checked


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/stories/{slug}/", "/api/stories/{slug}/entries/"])
@pytest.mark.parametrize("when", [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)])
def test_a_cursor_out_of_range_is_a_400_naming_the_range(client, story, url, when):
    micros = (when - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    response = client.get(url.format(slug=story.slug), {"before": f"{micros}.1"})
    assert response.status_code == 400
    assert "out of range (years 1900 to 2999)" in response.content.decode()


# --- A time already stored out of range ----------------------------------------------


@pytest.mark.parametrize("when", [datetime(1, 1, 1, tzinfo=UTC), TOO_EARLY, TOO_LATE])
@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Tokyo", "Pacific/Kiritimati"])
def test_a_time_out_of_range_is_shown_as_nothing_in_any_zone(when, zone):
    assert (ap_time(when, zone), ap_date(when, zone), ap_datetime(when, zone)) == ("", "", "")


@pytest.mark.parametrize(
    "when", [datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)]
)
def test_the_day_of_a_time_at_pythons_limits_is_found_in_any_zone(when):
    assert local_day(when, "Pacific/Kiritimati") and local_day(when, "Pacific/Pago_Pago")


@pytest.mark.django_db
@pytest.mark.skipif(not POSTGRES, reason="only PostgreSQL stores years Python cannot hold")
@pytest.mark.parametrize(
    ("stored", "read"),
    [
        ("10000-01-01 04:59:59+00", TOO_LATE),
        ("294276-12-31 23:59:59+00", TOO_LATE),
        ("infinity", TOO_LATE),
        ("0044-03-15 12:00:00+00 BC", TOO_EARLY),
        ("-infinity", TOO_EARLY),
        ("2020-01-07 05:00:00+00", datetime(2020, 1, 7, 5, 0, tzinfo=UTC)),
    ],
)
def test_postgres_reads_a_time_past_pythons_years_at_their_edge(stored, read):
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz, (%s::timestamptz AT TIME ZONE 'UTC')", [stored] * 2)
        assert cursor.fetchone() == (read, read.replace(tzinfo=None))


def pages_showing(story, entry):
    """Every page that shows the story's or the entry's times, public and staff."""
    slug, pk = story.slug, entry.pk
    return [
        "/",
        f"/stories/{slug}/",
        f"/stories/{slug}/entries/{pk}/",
        f"/stories/{slug}/updates/0/",
        f"/stories/{slug}/embed/",
        "/api/stories/",
        f"/api/stories/{slug}/",
        f"/api/stories/{slug}/entries/",
        "/feed/rss/",
        "/feed/atom/",
        f"/stories/{slug}/feed/rss/",
        f"/stories/{slug}/feed/atom/",
        "/sitemap.xml",
        "/admin/liveblog/story/",
        f"/admin/liveblog/story/{story.pk}/change/",
        f"/admin/liveblog/story/{story.pk}/history/",
        "/admin/liveblog/entry/",
        f"/admin/liveblog/entry/{pk}/change/",
        "/admin/liveblog/auditevent/",
        f"/desk/{slug}/",
        f"/preview/stories/{slug}/",
        f"/preview/stories/{slug}/entries/{pk}/",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("when", STORED_OUT_OF_RANGE)
@pytest.mark.parametrize(
    ("model", "field", "status"),
    [
        (Story, "coverage_start", Story.Status.LIVE),
        (Story, "coverage_end", Story.Status.ENDED),
        (Story, "updated_at", Story.Status.LIVE),
        (Entry, "published_at", Story.Status.LIVE),
        (Entry, "revised_at", Story.Status.LIVE),
    ],
)
def test_a_time_stored_out_of_range_takes_no_page_down(client, editor, model, field, status, when):
    # Tokyo is ahead of UTC and Los Angeles behind: one of them carries each end of the
    # range past Python's when the time is shown.
    story = StoryFactory(status=status, time_zone="Asia/Tokyo")
    other = StoryFactory(status=status, time_zone="America/Los_Angeles")
    entry, other_entry = EntryFactory(story=story), EntryFactory(story=other)
    EntryFactory(story=story)
    for obj in (story, other) if model is Story else (entry, other_entry):
        store_out_of_range(obj, field, when)
    call_command("render_entries", stdout=io.StringIO())  # what the stored HTML shows
    client.force_login(editor)
    pages = pages_showing(story, entry) + pages_showing(other, other_entry)
    failed = {url: code for url in pages if (code := client.get(url).status_code) >= 500}
    assert not failed


def test_wall_clock_reads_either_hour_that_happens_twice_only_when_told_which():
    from liveblog.dates import wall_clock

    zone = zoneinfo.ZoneInfo("America/New_York")
    typed = datetime(2025, 11, 2, 1, 30)
    with pytest.raises(ValidationError) as error:
        wall_clock(typed, zone)
    assert error.value.code == "ambiguous_time"
    assert "“1:30 a.m. EDT (first)” or “1:30 a.m. EST (second)”" in error.value.messages[0]
    assert wall_clock(typed, zone, 0) == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)
    assert wall_clock(typed, zone, 1) == datetime(2025, 11, 2, 6, 30, tzinfo=UTC)
    with pytest.raises(ValidationError, match=r"There is no 2:30 a\.m\."):
        wall_clock(datetime(2025, 3, 9, 2, 30), zone, 0)
    assert wall_clock(datetime(2025, 7, 1, 9, 0), zone) == datetime(2025, 7, 1, 13, 0, tzinfo=UTC)
