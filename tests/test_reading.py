"""Readers choose how to read (issue 17): newest or oldest first, every update or the key
ones only; the URL says which, so the caches in front keep each view apart."""

import re
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.test import override_settings

from liveblog.models import Entry, Story
from liveblog.pagination import decode_cursor

from .factories import EntryFactory, KeyPointFactory, grow_story

pytestmark = pytest.mark.django_db

ARTICLE_ID = re.compile(r'<article class="entry" id="entry-(\d+)"')
MORE = re.compile(r'<a class="load-older" href="([^"]+)">([^<]+)</a>')


def article_ids(response):
    return [int(pk) for pk in ARTICLE_ID.findall(response.content.decode())]


def more_link(response):
    match = MORE.search(response.content.decode())
    return (match.group(1).replace("&amp;", "&"), match.group(2)) if match else (None, None)


def read_every_page(client, url):
    """The entry ids of every page from ``url`` on, following the page's own links."""
    ids, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        ids += article_ids(response)
        url, _label = more_link(response)
        pages += 1
    return ids, pages


@pytest.fixture
def entries(story):
    # Two at the same moment: the keyset must order them by id, both ways.
    moment = datetime(2020, 1, 6, 22, 0, tzinfo=UTC)
    made = [EntryFactory(story=story) for _ in range(3)]
    made += [EntryFactory(story=story, published_at=moment) for _ in range(2)]
    made += [EntryFactory(story=story) for _ in range(2)]
    return sorted(made, key=lambda e: (e.published_at, e.pk))


def test_oldest_first_lists_entries_oldest_first(client, story, entries):
    response = client.get(story.get_absolute_url(), {"order": "oldest"})
    assert article_ids(response) == [e.pk for e in entries]


@override_settings(LIVEBLOG_PAGE_SIZE=2)
@pytest.mark.parametrize("order", ["newest", "oldest"])
def test_every_entry_once_across_page_boundaries(client, story, entries, order):
    url = story.get_absolute_url() + ("?order=oldest" if order == "oldest" else "")
    ids, pages = read_every_page(client, url)
    expected = [e.pk for e in entries]
    assert ids == (expected if order == "oldest" else expected[::-1])
    assert pages == 4


@override_settings(LIVEBLOG_PAGE_SIZE=2)
def test_oldest_first_pages_go_on_with_later_updates(client, story, entries):
    response = client.get(story.get_absolute_url(), {"order": "oldest"})
    url, label = more_link(response)
    assert label == "Load later updates"
    assert "order=oldest" in url
    assert decode_cursor(url.rsplit("after=", 1)[1]) == (entries[1].published_at, entries[1].pk)
    later = client.get(url).content.decode()
    assert "Back to the first updates" in later


@override_settings(LIVEBLOG_PAGE_SIZE=2)
def test_scheduled_and_draft_entries_stay_out_of_oldest_first_pages(client, story, entries):
    EntryFactory(story=story, status=Entry.Status.DRAFT, headline="Secret draft")
    EntryFactory(
        story=story, published_at=datetime(2999, 1, 1, tzinfo=UTC), headline="Secret scheduled"
    )
    ids, _pages = read_every_page(client, story.get_absolute_url() + "?order=oldest")
    assert ids == [e.pk for e in entries]


def key_story(story, entries):
    """Key points link to entries 1 and 5; entry 3 is pinned."""
    KeyPointFactory(story=story, entry=entries[1])
    KeyPointFactory(story=story, entry=entries[5])
    KeyPointFactory(story=story, entry=entries[6], pinned=False)  # not shown to readers
    KeyPointFactory(story=story)  # links nowhere
    story.pinned_entry = entries[3]
    story.save()
    return [entries[1], entries[3], entries[5]]


def test_key_updates_only_shows_key_point_entries_and_the_pinned_one(client, story, entries):
    key = key_story(story, entries)
    content = client.get(story.get_absolute_url(), {"only": "key"}).content.decode()
    shown = [int(pk) for pk in ARTICLE_ID.findall(content)]
    # The pinned entry stands above the stream, the others in it, newest first.
    assert shown == [entries[3].pk, entries[5].pk, entries[1].pk]
    assert 'class="pinned"' in content
    assert {e.pk for e in key} == set(shown)


@override_settings(LIVEBLOG_PAGE_SIZE=1)
@pytest.mark.parametrize("order", ["newest", "oldest"])
def test_key_updates_only_across_page_boundaries(client, story, entries, order):
    key_story(story, entries)
    query = "?only=key" + ("&order=oldest" if order == "oldest" else "")
    ids, _pages = read_every_page(client, story.get_absolute_url() + query)
    # The first page has the pinned entry above the stream; later pages have it in place.
    pinned, one, five = entries[3].pk, entries[1].pk, entries[5].pk
    if order == "newest":
        assert ids == [pinned, five, pinned, one]
    else:
        assert ids == [pinned, one, pinned, five]


def test_controls_are_links_that_keep_the_other_choice(client, story, entries):
    content = client.get(story.get_absolute_url(), {"only": "key"}).content.decode()
    assert f'href="/stories/{story.slug}/?order=oldest&amp;only=key"' in content
    assert f'href="/stories/{story.slug}/" data-reading-only="all"' in content
    assert 'data-reading-only="key" aria-current="page"' in content
    assert 'data-reading-order="newest" aria-current="page"' in content


@pytest.mark.parametrize(
    "query",
    [
        {"order": "sideways"},
        {"only": "everything"},
        {"order": "oldest", "before": "1578348000000000.1"},
        {"after": "1578348000000000.1"},
        {"order": "oldest", "after": "yesterday"},
    ],
)
def test_a_bad_reading_is_a_400_that_says_why(client, story, query):
    response = client.get(story.get_absolute_url(), query)
    assert response.status_code == 400
    assert response.content


def test_each_view_of_the_first_page_is_cached_apart(client, story, entries):
    newest = article_ids(client.get(story.get_absolute_url()))
    oldest = article_ids(client.get(story.get_absolute_url(), {"order": "oldest"}))
    assert oldest == newest[::-1]
    assert article_ids(client.get(story.get_absolute_url())) == newest


def test_every_view_is_cacheable_by_the_proxy_and_sets_no_cookie(client, story, entries):
    for query in ({"order": "oldest"}, {"only": "key"}, {"order": "oldest", "only": "key"}):
        response = client.get(story.get_absolute_url(), query)
        assert "public" in response["Cache-Control"]
        assert "s-maxage" in response["Cache-Control"]
        assert not response.cookies
        assert "Cookie" not in response.get("Vary", "")


def grow_key_story(story, size):
    """``size`` entries, each linked from a key point."""
    grow_story(story, size)
    for point, entry in zip(story.key_points.all(), story.entries.all(), strict=True):
        point.entry = entry
        point.save()


@pytest.mark.parametrize("size", [1, 40])
@pytest.mark.parametrize("query", [{"order": "oldest"}, {"only": "key"}])
def test_first_page_query_count_is_constant(client, story, django_assert_num_queries, size, query):
    grow_key_story(story, size)
    # story (its key points kept with it), one page of entries, the version check
    with django_assert_num_queries(3):
        assert client.get(story.get_absolute_url(), query).status_code == 200


@pytest.mark.parametrize("size", [1, 40])
def test_later_page_query_count_is_constant(client, story, django_assert_num_queries, size):
    grow_story(story, size + 1)
    newest, second_newest = story.entries.order_by("-published_at")[:2]
    with django_assert_num_queries(2):  # story (its picture kept with it), one page of entries
        response = client.get(
            story.get_absolute_url(), {"order": "oldest", "after": second_newest.cursor}
        )
    assert article_ids(response) == [newest.pk]


@pytest.mark.parametrize("size", [1, 40])
def test_later_key_page_query_count_is_constant(
    client, story, django_assert_num_queries, size, settings
):
    grow_key_story(story, size + 1)
    oldest = story.entries.order_by("published_at").first()
    # story (the key entries for the script kept with it), one page of entries
    with django_assert_num_queries(2):
        response = client.get(
            story.get_absolute_url(), {"order": "oldest", "only": "key", "after": oldest.cursor}
        )
    assert len(article_ids(response)) == min(size, settings.LIVEBLOG_PAGE_SIZE)


def test_oldest_first_deep_page_reads_the_stream_index_in_order(story):
    """The oldest-first page near the newest entries walks the (story, time, id) index
    backwards from the cursor: no sort, however big the story."""
    grow_story(story, 5)
    cursor = story.entries.order_by("published_at")[2]
    query = (
        Story.objects.get(pk=story.pk)
        .entries.at_or_after(cursor.published_at, cursor.pk)
        .public()
        .only("id", "published_at", "html")[:31]
    )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as c:
                # A five-entry table is cheaper to scan: ask what the index does.
                c.execute("SET LOCAL enable_seqscan = off")
        plan = query.explain()
    if connection.vendor == "postgresql":
        # On a table this small PostgreSQL may walk any of the time-ordered indexes;
        # what matters is that one is read in order, with no sort.
        assert re.search(r"Index (Only )?Scan( Backward)? using \w+ on liveblog_entry", plan)
    else:
        assert "entry_story_stream" in plan, plan
    assert "TEMP B-TREE" not in plan.upper(), plan  # SQLite sorting
    assert "Sort" not in plan, plan  # PostgreSQL sorting
