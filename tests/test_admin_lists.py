"""The admin's lists at archive size: queries that do not grow with the data, no full
count, a story filter that lists no thousands of stories, staff search on small fields."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from liveblog import services
from liveblog.admin_lists import ArchivePaginator
from liveblog.models import Entry, Story

from .factories import (
    EntryFactory,
    PersonFactory,
    StoryFactory,
    UserFactory,
    store_out_of_range,
)

pytestmark = pytest.mark.django_db

ENTRIES = reverse("admin:liveblog_entry_changelist")
STORIES = reverse("admin:liveblog_story_changelist")
PEOPLE = reverse("admin:liveblog_person_changelist")
AUDIT = reverse("admin:liveblog_auditevent_changelist")


def grow_archive(story, count, editor):
    """``count`` more entries (each with two bylines, one a staff login's, in the story
    and in stories of their own), stories, people and lines of the editors' log."""
    for _ in range(count):
        other = StoryFactory()
        for in_story in (story, other):
            staff = PersonFactory(user=UserFactory())
            entry = EntryFactory(story=in_story, authors=[staff, PersonFactory()])
            services.entry_set_status(entry=entry, status=Entry.Status.DRAFT, user=editor)


def list_urls(story):
    return [
        ENTRIES,
        f"{ENTRIES}?story__id__exact={story.pk}",
        f"{ENTRIES}?status__exact=draft&story__status__exact=live",
        f"{ENTRIES}?q=Update",
        STORIES,
        f"{STORIES}?status__exact=live",
        PEOPLE,
        f"{PEOPLE}?q=Person",
        AUDIT,
        f"{AUDIT}?story__id__exact={story.pk}&action__exact=draft",
    ]


def queries_of(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return [query["sql"] for query in queries.captured_queries]


def test_each_list_makes_as_many_queries_for_30_rows_as_for_3(client, editor, story):
    grow_archive(story, 3, editor)
    client.force_login(editor)
    queries_of(client, ENTRIES)  # a session's first request notes its activity (accounts.py)
    small = {url: len(queries_of(client, url)) for url in list_urls(story)}
    grow_archive(story, 27, editor)
    large = {url: len(queries_of(client, url)) for url in list_urls(story)}
    assert large == small


@pytest.mark.parametrize(
    ("url", "count"),
    [
        # The session, the user and two for their permissions, then the list's own:
        # its bounded count and its page, with the page's bylines (entries) and the
        # story filter's live stories (entries, the editors' log).
        (ENTRIES, 8),
        (STORIES, 6),
        (PEOPLE, 6),
        (AUDIT, 7),
    ],
)
def test_each_list_has_a_pinned_query_count(
    client, editor, story, django_assert_num_queries, url, count
):
    grow_archive(story, 5, editor)
    client.force_login(editor)
    client.get(url)  # a session's first request notes its activity (accounts.py)
    with django_assert_num_queries(count):
        assert client.get(url).status_code == 200


def test_no_list_counts_every_row(client, editor, story):
    grow_archive(story, 3, editor)
    client.force_login(editor)
    for url in list_urls(story):
        for sql in queries_of(client, url):
            if "COUNT(" in sql.upper():
                assert "LIMIT" in sql.upper(), (url, sql)


def test_a_list_longer_than_the_limit_says_more_and_pages_through_the_limit(
    client, editor, story, monkeypatch
):
    monkeypatch.setattr(ArchivePaginator, "limit", 4)
    monkeypatch.setattr("liveblog.admin.EntryAdmin.list_per_page", 2)
    for _ in range(7):
        EntryFactory(story=story)
    client.force_login(editor)
    response = client.get(ENTRIES, {"story__id__exact": story.pk})
    cl = response.context["cl"]
    assert (cl.result_count, cl.paginator.num_pages) == (4, 2)
    text = response.content.decode()
    assert "more than 4 entries" in text
    assert client.get(ENTRIES, {"p": "3"}).status_code == 302  # past the limit: ?e=1


def test_a_short_list_says_its_exact_count(client, editor, story):
    for _ in range(3):
        EntryFactory(story=story)
    client.force_login(editor)
    assert "3 entries" in client.get(ENTRIES).content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL keeps the estimate")
def test_an_unfiltered_list_on_postgresql_says_the_estimated_size(
    client, editor, story, monkeypatch
):
    monkeypatch.setattr(ArchivePaginator, "limit", 4)
    for _ in range(7):
        EntryFactory(story=story)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE liveblog_entry")
    client.force_login(editor)
    assert "about 7 entries" in client.get(ENTRIES).content.decode()
    # Filtered, the estimate of the whole table would be wrong: "more than".
    filtered = client.get(ENTRIES, {"story__id__exact": story.pk}).content.decode()
    assert "more than 4 entries" in filtered


# --- The story filter ------------------------------------------------------------------


def test_the_story_filter_lists_live_stories_not_every_story(client, editor):
    for n in range(15):
        StoryFactory(headline=f"Live story {n}")
    StoryFactory(headline="An ended story", status=Story.Status.ENDED)
    client.force_login(editor)
    response = client.get(ENTRIES)
    text = response.content.decode()
    assert text.count("Live story") == 10
    assert "An ended story" not in text
    # Any story is a search away: Django's autocomplete, as on the entry form.
    assert 'data-model-name="entry"' in text
    assert 'name="story__id__exact"' in text
    assert "admin/js/autocomplete.js" in text


def test_the_story_filter_shows_and_applies_the_chosen_story(client, editor):
    ended = StoryFactory(headline="An ended story", status=Story.Status.ENDED)
    EntryFactory(story=ended, headline="Ended entry")
    EntryFactory(headline="Elsewhere")
    client.force_login(editor)
    response = client.get(ENTRIES, {"story__id__exact": ended.pk, "status__exact": "published"})
    assert [entry.headline for entry in response.context["cl"].result_list] == ["Ended entry"]
    text = response.content.decode()
    assert '<li class="selected">' in text and "An ended story" in text
    # The autocomplete box keeps the list's other filters.
    assert '<input type="hidden" name="status__exact" value="published">' in text
    assert f'<option value="{ended.pk}" selected>An ended story</option>' in text


def test_the_editors_log_filters_by_story_the_same_way(client, editor, story):
    entry = EntryFactory(story=story)
    services.entry_set_status(entry=entry, status=Entry.Status.DRAFT, user=editor)
    services.entry_set_status(entry=EntryFactory(), status=Entry.Status.DRAFT, user=editor)
    client.force_login(editor)
    response = client.get(AUDIT, {"story__id__exact": story.pk})
    assert [event.story for event in response.context["cl"].result_list] == [story]
    assert 'data-model-name="auditevent"' in response.content.decode()


@pytest.mark.parametrize("value", ["abc", "-1", "9" * 30])
def test_a_story_filter_that_is_no_id_shows_the_list_unfiltered(client, editor, value):
    client.force_login(editor)
    response = client.get(ENTRIES, {"story__id__exact": value})
    assert (response.status_code, response["Location"]) == (302, f"{ENTRIES}?e=1")


@pytest.mark.parametrize("url", [ENTRIES, AUDIT])
def test_the_entry_and_audit_lists_have_no_date_drill_down(client, editor, story, url):
    EntryFactory(story=story)
    client.force_login(editor)
    assert client.get(url).context["cl"].date_hierarchy is None


def test_a_chosen_story_offers_the_days_of_its_coverage_in_its_own_zone(client, editor):
    # New York: 11:30 p.m. on Jan. 7 is 04:30 UTC on Jan. 8; the clocks went forward
    # on March 8, a 23-hour day.
    story = StoryFactory(
        status=Story.Status.ENDED,
        time_zone="America/New_York",
        coverage_start=datetime(2020, 1, 6, 14, tzinfo=UTC),
        coverage_end=datetime(2020, 1, 8, 20, tzinfo=UTC),
    )
    late = EntryFactory(story=story, published_at=datetime(2020, 1, 8, 4, 30, tzinfo=UTC))
    EntryFactory(story=story, published_at=datetime(2020, 1, 8, 15, tzinfo=UTC))
    client.force_login(editor)
    response = client.get(ENTRIES, {"story__id__exact": story.pk})
    day_filter = next(f for f in response.context["cl"].filter_specs if f.title == "day")
    labels = [title for title, _range in day_filter.links]
    assert labels[:4] == [
        "Any date",
        "Wednesday, Jan. 8, 2020",
        "Tuesday, Jan. 7, 2020",
        "Monday, Jan. 6, 2020",
    ]
    (since, until) = day_filter.links[2][1].values()
    assert (since, until) == (
        datetime(2020, 1, 7, 5, tzinfo=UTC),
        datetime(2020, 1, 8, 5, tzinfo=UTC),
    )
    chosen = client.get(
        ENTRIES,
        {"story__id__exact": story.pk, "published_at__gte": since, "published_at__lt": until},
    )
    assert list(chosen.context["cl"].result_list) == [late]
    assert "Tuesday, Jan. 7, 2020" in chosen.content.decode()

    spring = StoryFactory(
        status=Story.Status.ENDED,
        time_zone="America/New_York",
        coverage_start=datetime(2020, 3, 8, 12, tzinfo=UTC),
        coverage_end=datetime(2020, 3, 8, 20, tzinfo=UTC),
    )
    response = client.get(ENTRIES, {"story__id__exact": spring.pk})
    day_filter = next(f for f in response.context["cl"].filter_specs if f.title == "day")
    since, until = day_filter.links[1][1].values()
    assert until - since == timedelta(hours=23)


@pytest.mark.parametrize(
    ("zone", "field", "which"),
    [
        ("Asia/Tokyo", "coverage_end", "too late"),
        ("Pacific/Kiritimati", "coverage_end", "too late"),
        ("America/New_York", "coverage_start", "too early"),
    ],
)
def test_a_coverage_time_stored_out_of_range_still_lists_the_story(
    client, editor, zone, field, which
):
    """Older data or a fix in SQL can leave a year Python's dates end at: the day after
    it, or its midnight in UTC, was an OverflowError, and the list a 500."""
    story = StoryFactory(status=Story.Status.ENDED, time_zone=zone)
    store_out_of_range(story, field, which)
    client.force_login(editor)
    response = client.get(ENTRIES, {"story__id__exact": story.pk})
    assert response.status_code == 200
    day_filter = next(f for f in response.context["cl"].filter_specs if f.title == "day")
    assert len(day_filter.links) > 1


def test_without_a_story_the_date_filter_offers_periods_and_reads_no_dates(client, editor):
    EntryFactory()
    client.force_login(editor)
    queries_of(client, ENTRIES)  # the session's first request
    queries = queries_of(client, ENTRIES)
    assert not any("MIN(" in sql.upper() or "MAX(" in sql.upper() for sql in queries)
    text = client.get(ENTRIES).content.decode()
    assert "Past 7 days" in text and "This month" in text


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "9" * 30,
        "x" * 10_000,
        "2020-02-30",
        "10000-01-01",
        "9999-12-31 23:59:59",
        "0001-01-01",
        "2020-01-01T00:00:00+99:00",
    ],
)
@pytest.mark.parametrize("name", ["published_at__gte", "published_at__lt"])
def test_a_bad_date_in_the_filter_shows_the_list_unfiltered(client, editor, story, name, value):
    client.force_login(editor)
    for params in ({name: value}, {name: value, "story__id__exact": story.pk}):
        response = client.get(ENTRIES, params)
        assert (response.status_code, response["Location"]) == (302, f"{ENTRIES}?e=1")


def test_a_date_typed_without_an_offset_is_read_in_the_admins_zone(client, editor, story):
    client.force_login(editor)
    response = client.get(ENTRIES, {"published_at__gte": "2020-01-07"})
    assert response.status_code == 200


def test_the_story_autocomplete_finds_a_story_among_many(client, editor):
    for n in range(30):
        StoryFactory(headline=f"Story number {n}")
    wanted = StoryFactory(headline="Soleimani strike", status=Story.Status.ENDED)
    client.force_login(editor)
    response = client.get(
        reverse("admin:autocomplete"),
        {"term": "soleim", "app_label": "liveblog", "model_name": "entry", "field_name": "story"},
    )
    assert [r["id"] for r in response.json()["results"]] == [str(wanted.pk)]


# --- Staff search ----------------------------------------------------------------------


def search(client, term):
    response = client.get(ENTRIES, {"q": term})
    assert response.status_code == 200
    return {entry.headline for entry in response.context["cl"].result_list}


def test_staff_search_finds_the_start_of_a_headline_or_dateline(client, editor, story):
    EntryFactory(story=story, headline="Senators to be briefed", dateline="WASHINGTON")
    EntryFactory(story=story, headline="Missiles hit bases", dateline="BAGHDAD")
    EntryFactory(story=story, headline="Quiet night", dateline="TEHRAN", body="senators said")
    client.force_login(editor)
    assert search(client, "senat") == {"Senators to be briefed"}
    assert search(client, "baghdad") == {"Missiles hit bases"}
    # Neither the middle of a headline nor the body: those need every row read.
    assert search(client, "briefed") == set()


def test_staff_search_finds_an_entry_by_its_number(client, editor, story):
    entry = EntryFactory(story=story, headline="The one")
    EntryFactory(story=story, headline=f"Headline {entry.pk}")
    client.force_login(editor)
    assert search(client, str(entry.pk)) == {"The one"}
    assert search(client, f"#{entry.pk}") == {"The one"}


def test_the_search_box_says_what_it_matches(client, editor):
    client.force_login(editor)
    assert "how its headline or dateline begins" in client.get(ENTRIES).content.decode()
