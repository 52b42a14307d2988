"""The archive side of the site: people's pages (dates, paging) and the front page's
archive of ended stories."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from liveblog import views
from liveblog.models import Entry, Person, Story

from .factories import EntryFactory, PersonFactory, StoryFactory

pytestmark = pytest.mark.django_db

HEADING_OR_ENTRY = re.compile(
    r'<h2 class="day-heading">([^<]*)</h2>|<article class="entry" id="entry-(\d+)"'
)
STORY_LINK = re.compile(
    r'<li>\s*<span class="(?:live-marker|ended-label)">\w+</span>\s*<a href="/stories/([^/]+)/">'
)


def headings_and_entries(response):
    """The page's date headings and entry ids, in order: "Monday, Jan. 6, 2020", 12, ..."""
    return [
        heading or int(pk) for heading, pk in HEADING_OR_ENTRY.findall(response.content.decode())
    ]


def follow(client, url, link_text):
    """Every page from ``url`` on, following the link named ``link_text``."""
    pages = []
    for _ in range(50):
        response = client.get(url)
        assert response.status_code == 200
        pages.append(response)
        match = re.search(rf'<a href="([^"]+)">{link_text}</a>', response.content.decode())
        if not match:
            return pages
        url = match.group(1).replace("&amp;", "&")
        if url.startswith("?"):
            url = response.request["PATH_INFO"] + url
    raise AssertionError("the pages never end")


# --- People ---------------------------------------------------------------------------


@pytest.fixture
def person():
    return PersonFactory(name="Lolita Baldor", slug="lolita-baldor", title="Pentagon reporter")


def by(person, story, when):
    return EntryFactory(story=story, authors=[person], published_at=when)


def test_person_page_dates_entries_across_midnight_in_the_storys_zone(client, person):
    story = StoryFactory(time_zone="America/New_York")
    before = by(person, story, datetime(2020, 1, 7, 4, 50, tzinfo=UTC))  # 11:50 p.m. Jan. 6
    after = by(person, story, datetime(2020, 1, 7, 5, 10, tzinfo=UTC))  # 12:10 a.m. Jan. 7
    response = client.get(person.get_absolute_url())
    assert headings_and_entries(response) == [
        "Tuesday, Jan. 7, 2020",
        after.pk,
        "Monday, Jan. 6, 2020",
        before.pk,
    ]


def test_person_page_dates_entries_across_a_daylight_saving_change(client, person):
    story = StoryFactory(time_zone="America/New_York")
    # Nov. 1, 2020: 1:30 a.m. EDT, then 1:30 a.m. again in EST, then 11:30 p.m. EST,
    # which is already Nov. 2 in UTC (and would be at the summer offset), then Nov. 2.
    first = by(person, story, datetime(2020, 11, 1, 5, 30, tzinfo=UTC))
    again = by(person, story, datetime(2020, 11, 1, 6, 30, tzinfo=UTC))
    late = by(person, story, datetime(2020, 11, 2, 4, 30, tzinfo=UTC))
    next_day = by(person, story, datetime(2020, 11, 2, 5, 30, tzinfo=UTC))
    content = client.get(person.get_absolute_url())
    assert headings_and_entries(content) == [
        "Monday, Nov. 2, 2020",
        next_day.pk,
        "Sunday, Nov. 1, 2020",
        late.pk,
        again.pk,
        first.pk,
    ]
    assert "11:30 p.m." in content.content.decode()


def test_person_page_dates_each_entry_in_its_own_storys_zone(client, person):
    tokyo = StoryFactory(time_zone="Asia/Tokyo")
    new_york = StoryFactory(time_zone="America/New_York")
    when = datetime(2020, 1, 7, 1, 0, tzinfo=UTC)  # Jan. 7, 10 a.m. in Tokyo; Jan. 6, 8 p.m.
    in_tokyo = by(person, tokyo, when + timedelta(minutes=1))
    in_new_york = by(person, new_york, when)
    assert headings_and_entries(client.get(person.get_absolute_url())) == [
        "Tuesday, Jan. 7, 2020",
        in_tokyo.pk,
        "Monday, Jan. 6, 2020",
        in_new_york.pk,
    ]


@override_settings(LIVEBLOG_PAGE_SIZE=2)
def test_person_page_pages_through_every_public_entry_once(client, person, story):
    written = [by(person, story, datetime(2020, 1, 6, 21, n, tzinfo=UTC)) for n in range(5)]
    named = EntryFactory(story=story)
    named.people.add(person)
    EntryFactory(story=story, authors=[person], status=Entry.Status.DRAFT)
    pages = follow(client, person.get_absolute_url(), "Older updates")
    seen = [pk for page in pages for pk in headings_and_entries(page) if isinstance(pk, int)]
    expected = Entry.objects.filter(pk__in=[e.pk for e in [*written, named]]).newest_first()
    assert seen == list(expected.values_list("pk", flat=True))
    assert len(pages) == 3


def test_person_page_refuses_a_malformed_cursor(client, person):
    response = client.get(person.get_absolute_url(), {"before": "yesterday"})
    assert response.status_code == 400
    assert "before" in response.content.decode()


def test_person_page_shows_the_role_and_photo(client, person):
    Person.objects.filter(pk=person.pk).update(photo="people/headshot.jpg")
    content = client.get(person.get_absolute_url()).content.decode()
    assert '<p class="person-title">Pentagon reporter</p>' in content
    assert 'src="/media/people/headshot.jpg"' in content


@pytest.mark.parametrize("size", [1, 40])
def test_a_deep_person_page_query_count_is_constant(
    client, person, story, django_assert_num_queries, size
):
    for n in range(size + 2):
        by(person, story, datetime(2020, 1, 6, 21, 0, tzinfo=UTC) + timedelta(minutes=n))
    cursor = Entry.objects.newest_first()[1].cursor
    # The person, a page of the entries they wrote, one of those they appear in.
    with django_assert_num_queries(3):
        response = client.get(person.get_absolute_url(), {"before": cursor})
        assert response.status_code == 200


# --- The front page's archive ------------------------------------------------------------


def ended(n, **kwargs):
    return StoryFactory(
        status=Story.Status.ENDED,
        coverage_start=datetime(2020, 1, 1, tzinfo=UTC),
        coverage_end=datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=n),
        **kwargs,
    )


def test_the_archive_pages_through_ended_stories_latest_ended_first(client, monkeypatch):
    monkeypatch.setattr(views, "ARCHIVE_PAGE_SIZE", 2)
    stories = [ended(n) for n in (3, 1, 4, 2)]
    same_day = ended(2)  # ties are kept apart by id
    live = StoryFactory(status=Story.Status.LIVE)
    StoryFactory(status=Story.Status.DRAFT, slug="draft-story")
    pages = follow(client, "/", "Older stories")
    slugs = [slug for page in pages for slug in STORY_LINK.findall(page.content.decode())]
    archive = Story.objects.filter(pk__in=[s.pk for s in [*stories, same_day]])
    expected = list(archive.order_by("-coverage_end", "-id").values_list("slug", flat=True))
    assert slugs == [live.slug, *expected]
    assert len(pages) == 3
    assert "draft-story" not in "".join(page.content.decode() for page in pages)


def test_the_archive_says_when_each_story_ended_in_its_zone(client):
    # 3 a.m. UTC on Jan. 7 is still Jan. 6 in New York.
    StoryFactory(
        status=Story.Status.ENDED,
        time_zone="America/New_York",
        coverage_end=datetime(2020, 1, 7, 3, 0, tzinfo=UTC),
    )
    assert "Monday, Jan. 6, 2020" in client.get("/").content.decode()


def test_the_archive_refuses_a_malformed_cursor(client):
    response = client.get("/", {"before": "1.2.3"})
    assert response.status_code == 400
    assert "before" in response.content.decode()


@pytest.mark.parametrize("size", [1, 40])
def test_an_archive_page_query_count_is_constant(client, django_assert_num_queries, size):
    stories = [ended(n) for n in range(size + 2)]
    cursor = f"{int(stories[-1].coverage_end.timestamp() * 1_000_000)}.{stories[-1].pk}"
    with django_assert_num_queries(1):  # the page of ended stories
        assert client.get("/", {"before": cursor}).status_code == 200


def test_an_entry_a_person_wrote_and_appears_in_is_listed_once(client, person, story):
    both = by(person, story, datetime(2020, 1, 6, 21, 0, tzinfo=UTC))
    both.people.add(person)
    ids = headings_and_entries(client.get(person.get_absolute_url()))
    assert [pk for pk in ids if isinstance(pk, int)] == [both.pk]
