"""Search: readers' site-wide and per-story pages, the desk's staff search, and the one
QuerySet method under them. The same tests run on SQLite (the fallback) and on
PostgreSQL (full-text search) when DATABASE_URL names it."""

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from liveblog import search, views
from liveblog.models import Entry, Story

from .factories import BASE_TIME, EntryFactory, StoryFactory

pytestmark = pytest.mark.django_db

RESULT = re.compile(r'<article class="search-result" aria-labelledby="result-(\d+)"')
on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="full-text search runs on PostgreSQL"
)


def result_ids(response):
    return [int(pk) for pk in RESULT.findall(response.content.decode())]


@pytest.fixture
def entry(story):
    return EntryFactory(
        story=story,
        headline="Pentagon confirms the airstrike",
        dateline="BAGHDAD",
        body="Officials said the **convoy** was struck near the [airport](https://example.com).",
    )


@pytest.mark.parametrize("word", ["Pentagon", "BAGHDAD", "convoy", "airport"])
def test_search_finds_an_entry_by_a_word_of_its_headline_dateline_or_body(client, entry, word):
    response = client.get("/search/", {"q": word.lower()})
    assert response.status_code == 200
    assert result_ids(response) == [entry.pk]
    assert f'href="{entry.permalink}"' in response.content.decode()


def test_story_search_finds_only_that_story(client, entry):
    other = EntryFactory(story=StoryFactory(), headline="Pentagon briefing")
    both = client.get("/search/", {"q": "pentagon"})
    assert sorted(result_ids(both)) == sorted([entry.pk, other.pk])
    mine = client.get(f"/stories/{entry.story.slug}/search/", {"q": "pentagon"})
    assert result_ids(mine) == [entry.pk]


def hidden(story, draft_story):
    """An entry in each state that is not public, all with the word "embargoed"."""
    words = {"headline": "Embargoed resignation", "body": "The embargoed minister resigns."}
    EntryFactory(story=story, status=Entry.Status.DRAFT, **words)
    EntryFactory(story=story, published_at=timezone.now() + timedelta(hours=1), **words)
    EntryFactory(story=draft_story, **words)
    unpublished = EntryFactory(story=story, **words)
    unpublished.status = Entry.Status.DRAFT
    unpublished.save()


@pytest.mark.parametrize("url", ["/search/", "/stories/{slug}/search/"])
@pytest.mark.parametrize("order", search.ORDERS)
def test_search_never_finds_an_entry_that_is_not_public(client, story, url, order):
    hidden(story, StoryFactory(status=Story.Status.DRAFT))
    url = url.format(slug=story.slug)
    secret = client.get(url, {"q": "embargoed", "order": order})
    nowhere = client.get(url, {"q": "xylophone", "order": order})
    assert secret.status_code == nowhere.status_code == 200
    assert result_ids(secret) == []
    assert secret.content.decode().replace("embargoed", "xylophone") == nowhere.content.decode()


def test_a_draft_storys_search_is_the_same_404_as_a_missing_storys(client):
    StoryFactory(slug="draft-story", status=Story.Status.DRAFT)
    draft = client.get("/stories/draft-story/search/", {"q": "anything"})
    missing = client.get("/stories/missing-one/search/", {"q": "anything"})
    assert draft.status_code == missing.status_code == 404
    assert draft.content == missing.content.replace(b"missing-one", b"draft-story")


def test_extracts_escape_what_people_typed_and_mark_only_the_matches(client, story):
    EntryFactory(
        story=story,
        headline="Tanks & <b>troops</b>",
        body="Witnesses saw <script>alert('x')</script> & tanks \ue000near\ue001 the border.",
    )
    content = client.get("/search/", {"q": "tanks"}).content.decode()
    assert "<script" not in content
    assert "<b>" not in content
    # PostgreSQL's ts_headline leaves what looks like a tag out of the extract; the
    # fallback shows it escaped. Either way it is text, never markup.
    extract = re.search(r'<p class="search-extract">(.*?)</p>', content, re.S).group(1)
    assert "&amp; <mark>tanks</mark>" in extract.lower()
    # Only <mark> tags, and the private-use characters search uses as marks are dropped.
    assert set(re.findall(r"</?(\w+)", extract)) == {"mark"}
    assert "\ue000" not in content
    assert "\ue001" not in content


def test_the_query_typed_is_escaped_on_the_page(client, entry):
    content = client.get("/search/", {"q": '"><script>x</script>'}).content.decode()
    assert "<script>x</script>" not in content
    assert "&lt;script&gt;x&lt;/script&gt;" in content


def test_an_empty_search_is_the_form_with_a_message(client):
    response = client.get("/search/", {"q": "   "})
    assert response.status_code == 200
    assert "Type a word or two" in response.content.decode()


def test_a_too_long_search_is_a_400_that_says_so(client, entry):
    response = client.get("/search/", {"q": "word " * 60})
    assert response.status_code == 400
    assert f"use at most {search.MAX_QUERY_CHARS}" in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"q": "pentagon", "after": "nonsense"},
        {"q": "pentagon", "order": "best", "after": "1.5"},
        {"q": "pentagon", "order": "best", "after": "nan_1.2"},
        {"q": "pentagon", "order": "sideways"},
    ],
)
def test_a_malformed_cursor_or_order_is_a_400_with_a_reason(client, entry, params):
    response = client.get("/search/", params)
    assert response.status_code == 400
    assert "parameter" in response.content.decode()


@pytest.mark.parametrize("order", search.ORDERS)
@pytest.mark.parametrize("recent", [search.RECENT_ENTRIES, 2], ids=["one-read", "split"])
def test_search_pages_through_every_result_once(client, story, monkeypatch, order, recent):
    # "split": on PostgreSQL the newest two entries are read in order, the older
    # matches asked of the search index (search.newest_matches); the pages are the same.
    monkeypatch.setattr(search, "RECENT_ENTRIES", recent)
    monkeypatch.setattr(views, "SEARCH_PAGE_SIZE", 2)
    moment = timezone.now() - timedelta(days=1)
    made = [
        EntryFactory(story=story, headline=f"Convoy {n}", published_at=moment) for n in range(3)
    ] + [EntryFactory(story=story, body=f"A convoy, {n}.") for n in range(2)]
    EntryFactory(story=story, headline="Unrelated")
    seen, url = [], f"/search/?q=convoy&order={order}"
    for _ in range(len(made)):
        if not url:
            break
        response = client.get(url if url.startswith("/") else "/search/" + url)
        seen += result_ids(response)
        match = re.search(r'<a href="([^"]+)">More results</a>', response.content.decode())
        url = match and match.group(1).replace("&amp;", "&")
    assert sorted(seen) == sorted(e.pk for e in made)
    assert len(seen) == len(set(seen))
    if order == search.NEWEST:
        newest_first = Entry.objects.filter(pk__in=seen).newest_first()
        assert seen == list(newest_first.values_list("pk", flat=True))


@pytest.mark.parametrize("recent", [1, 3, 4, 7, 50])
@pytest.mark.parametrize("size", [1, 2, 5])
def test_newest_matches_are_the_plain_querys_in_a_story_or_across_stories(
    story, monkeypatch, recent, size
):
    """Pages read through search.page, however the newest entries split the work, are
    the plain query's rows in its order: ties, drafts and other stories included."""
    monkeypatch.setattr(search, "RECENT_ENTRIES", recent)
    other = StoryFactory()
    moment = timezone.now() - timedelta(days=1)
    for n in range(12):
        EntryFactory(
            story=story if n % 3 else other,
            headline=f"Convoy {n}" if n % 2 else f"Nothing {n}",
            published_at=moment - timedelta(minutes=n // 3),
            status=Entry.Status.DRAFT if n == 5 else Entry.Status.PUBLISHED,
        )
    for scope in (None, story):

        def results(scope=scope):
            return Entry.objects.public().search("convoy", story=scope)

        expected = list(results().newest_first().values_list("pk", flat=True))
        got, after = [], None
        for _ in range(20):
            found = search.page(results(), size=size, after=after, story=scope)
            got += [entry.pk for entry in found.results]
            if not found.next_cursor:
                break
            after = search.decode(search.NEWEST, found.next_cursor)
        assert got == expected
        best = search.page(results(), order=search.BEST, size=50, story=scope)
        assert sorted(entry.pk for entry in best.results) == sorted(expected)


@on_postgres
def test_a_story_search_counts_the_newest_entries_in_its_story(story, monkeypatch):
    """A story older than the site's newest entries, with fewer entries than that itself,
    is searched in order: not by asking the index for every match and sorting them."""
    monkeypatch.setattr(search, "RECENT_ENTRIES", 4)
    old = [
        EntryFactory(story=story, headline=f"Convoy {n}", published_at=BASE_TIME) for n in range(3)
    ]
    for n in range(5):
        EntryFactory(headline=f"Later {n}", published_at=BASE_TIME + timedelta(days=1))
    with CaptureQueriesContext(connection) as queries:
        found = search.page(Entry.objects.public().search("convoy", story=story), story=story)
    assert sorted(entry.pk for entry in found.results) == sorted(e.pk for e in old)
    assert not any("interval" in query["sql"] for query in queries)


def test_best_first_puts_a_headline_match_above_a_body_match(client, story):
    body = EntryFactory(story=story, body="The ceasefire holds.")
    headline = EntryFactory(
        story=story,
        headline="Ceasefire agreed",
        published_at=body.published_at - timedelta(hours=1),
    )
    newest = client.get("/search/", {"q": "ceasefire"})
    best = client.get("/search/", {"q": "ceasefire", "order": "best"})
    assert result_ids(newest) == [body.pk, headline.pk]
    assert result_ids(best) == [headline.pk, body.pk]


def test_best_first_ranks_only_the_latest_matches(client, story, monkeypatch):
    monkeypatch.setattr(search, "BEST_WINDOW", 2)
    old_headline = EntryFactory(
        story=story, headline="Ceasefire agreed", published_at=BASE_TIME - timedelta(days=2)
    )
    recent = [EntryFactory(story=story, body=f"The ceasefire holds, day {n}.") for n in (1, 2)]
    best = client.get("/search/", {"q": "ceasefire", "order": "best"})
    assert sorted(result_ids(best)) == sorted(e.pk for e in recent)
    assert old_headline.pk in result_ids(client.get("/search/", {"q": "ceasefire"}))


@pytest.mark.parametrize("size", [1, 30])
def test_search_query_count_is_constant(client, story, django_assert_num_queries, size):
    for n in range(size):
        EntryFactory(story=story, headline=f"Convoy {n}")
    # On PostgreSQL, the languages of the stories first (which configurations to parse
    # the query in) and where the newest entries end (search.newest_matches); then the
    # page of results, with their stories.
    postgres = connection.vendor == "postgresql"
    with django_assert_num_queries(3 if postgres else 1):
        assert client.get("/search/", {"q": "convoy"}).status_code == 200
    # The story, the latest matches best first ranks, the page of results.
    with django_assert_num_queries(4 if postgres else 3):
        url = f"/stories/{story.slug}/search/"
        assert client.get(url, {"q": "convoy", "order": "best"}).status_code == 200


def test_the_story_page_has_a_search_box_that_needs_no_script(client, story):
    content = client.get(story.get_absolute_url()).content.decode()
    action = f"/stories/{story.slug}/search/"
    assert (
        '<form class="story-search" role="search" aria-labelledby="story-search-label" '
        f'method="get" action="{action}">'
    ) in content
    assert 'name="q"' in content


@on_postgres
def test_site_search_parses_the_query_in_each_language_in_use(client, entry):
    french = EntryFactory(story=StoryFactory(language="fr"), headline="Les élections nationales")
    # "national" is found in French ("nationales"); English would look for "nation".
    assert result_ids(client.get("/search/", {"q": "national"})) == [french.pk]


def test_the_search_queryset_ranks_and_highlights(entry):
    found = list(Entry.objects.public().search("convoy"))
    assert [e.pk for e in found] == [entry.pk]
    assert found[0].rank > 0
    headline, extract = found[0].search_extract()
    assert "<mark>" not in headline
    assert "<mark>convoy</mark>" in extract.lower()
    assert "**" not in extract  # the body as readers read it, not its Markdown
    # Without extracts, for a list that shows none: the same entries, ranked.
    plain = list(Entry.objects.public().search("convoy", highlight=False))
    assert [(e.pk, e.rank) for e in plain] == [(entry.pk, found[0].rank)]


def test_search_follows_an_edit(client, entry):
    entry.body = "Officials said the motorcade was struck."
    entry.save()
    assert result_ids(client.get("/search/", {"q": "convoy"})) == []
    assert result_ids(client.get("/search/", {"q": "motorcade"})) == [entry.pk]


@on_postgres
def test_postgres_search_stems_words_in_the_storys_language(client, entry):
    assert result_ids(client.get("/search/", {"q": "confirmed airstrikes"})) == [entry.pk]


@on_postgres
def test_changing_a_storys_language_indexes_its_entries_again(client, story):
    entry = EntryFactory(story=story, headline="Les élections nationales")
    url = f"/stories/{story.slug}/search/"
    # English stems "national" to "nation", which "nationales" is not; French does not.
    assert result_ids(client.get(url, {"q": "national"})) == []
    story.language = "fr"
    story.save()
    assert result_ids(client.get(url, {"q": "national"})) == [entry.pk]


@on_postgres
def test_render_entries_rebuilds_the_search_index(client, entry):
    Entry.objects.update(search_vector=None)
    assert result_ids(client.get("/search/", {"q": "convoy"})) == []
    call_command("render_entries", stdout=io.StringIO())
    assert result_ids(client.get("/search/", {"q": "convoy"})) == [entry.pk]


# --- The desk's staff search ------------------------------------------------------------


def test_desk_search_finds_drafts_for_staff(client, reporter, story):
    draft = EntryFactory(story=story, status=Entry.Status.DRAFT, headline="Draft about tanks")
    public = EntryFactory(story=story, body="Tanks rolled in.")
    EntryFactory(story=StoryFactory(), headline="Tanks elsewhere")
    client.force_login(reporter)
    response = client.get(f"/desk/{story.slug}/", {"q": "tanks"})
    assert response.status_code == 200
    content = response.content.decode()
    results = content[content.index("desk-search-results") :]
    assert f"/preview/stories/{story.slug}/entries/{draft.pk}/" in results
    assert f"/preview/stories/{story.slug}/entries/{public.pk}/" in results
    assert "elsewhere" not in results


def test_desk_search_says_what_is_wrong_with_a_too_long_query(client, reporter, story):
    client.force_login(reporter)
    response = client.get(f"/desk/{story.slug}/", {"q": "x" * 500})
    assert response.status_code == 200
    assert f"use at most {search.MAX_QUERY_CHARS}" in response.content.decode()


def test_desk_search_is_staff_only(client, story):
    response = client.get(f"/desk/{story.slug}/", {"q": "tanks"})
    assert response.status_code == 302
