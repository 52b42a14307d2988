"""Feeds, structured data, social cards, sitemap, robots.txt, JSON API and embed.

Past 300 lines: one test per behaviour of each way stories leave the site, kept together
as the README's "Distribution" section is."""

import html
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import feedparser
import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image

from liveblog.models import Entry, Story

from .factories import EntryFactory, KeyPointFactory, PersonFactory, StoryFactory, grow_story

pytestmark = pytest.mark.django_db

HOSTILE = '</script><script>alert(1)</script> & "quotes" <b>'


class HeadParser(HTMLParser):
    """Collects JSON-LD scripts and meta tags the way a crawler reads them."""

    def __init__(self):
        super().__init__()
        self.json_ld, self.meta, self._in_ld = [], {}, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("type") == "application/ld+json":
            self._in_ld = True
            self.json_ld.append("")
        elif tag == "meta":
            self.meta[attrs.get("property") or attrs.get("name")] = attrs.get("content")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_ld = False

    def handle_data(self, data):
        if self._in_ld:
            self.json_ld[-1] += data


def parse_head(response):
    parser = HeadParser()
    parser.feed(response.content.decode())
    return parser


@pytest.fixture
def seeded(story):
    author = PersonFactory(name="Dana Reyes")
    older = EntryFactory(
        story=story,
        headline="Older",
        dateline="BAGHDAD",
        published_at=datetime(2020, 1, 6, 21, 55, tzinfo=UTC),
        authors=[author],
    )
    newer = EntryFactory(
        story=story, headline="Newer", published_at=datetime(2020, 1, 7, 5, 0, tzinfo=UTC)
    )
    EntryFactory(story=story, headline="Draft only", status=Entry.Status.DRAFT)
    return story, older, newer


# --- Feeds -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_story_feed_is_read_by_a_feed_reader(client, seeded, kind):
    story, older, _newer = seeded
    response = client.get(f"/stories/{story.slug}/feed/{kind}/")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == story.headline
    assert [e.title for e in feed.entries] == ["Newer", "Older"]
    first_older = feed.entries[1]
    assert first_older.link == f"http://testserver{older.permalink}"
    assert first_older.author == "Dana Reyes"
    assert "BAGHDAD —" in first_older.summary
    assert first_older.published_parsed[:5] == (2020, 1, 6, 21, 55)
    assert "s-maxage=" in response["Cache-Control"]


def test_site_feed_lists_latest_entries_of_live_stories_only(client, seeded):
    ended = StoryFactory(status=Story.Status.ENDED)
    EntryFactory(story=ended, headline="From an ended story")
    feed = feedparser.parse(client.get("/feed/atom/").content)
    titles = [e.title for e in feed.entries]
    assert titles == ["Newer", "Older"]


def test_feeds_are_linked_from_the_pages(client, seeded):
    story = seeded[0]
    content = client.get(story.get_absolute_url()).content.decode()
    rss = f'title="{story.headline} (RSS)" href="/stories/{story.slug}/feed/rss/"'
    assert f'type="application/rss+xml" {rss}' in content
    assert f'href="/stories/{story.slug}/feed/atom/"' in content
    assert 'href="/feed/rss/"' in content


def test_feeds_keep_hostile_titles_as_text(client, story):
    EntryFactory(story=story, headline=HOSTILE, body=HOSTILE)
    for kind in ("rss", "atom"):
        feed = feedparser.parse(client.get(f"/stories/{story.slug}/feed/{kind}/").content)
        assert not feed.bozo
        assert feed.entries[0].title == HOSTILE
        assert "<script>" not in feed.entries[0].summary


# --- Structured data and social cards ----------------------------------------------------


def test_story_page_carries_a_live_blog_posting(client, seeded):
    story, older, _newer = seeded
    story.status = Story.Status.ENDED
    story.save()
    head = parse_head(client.get(story.get_absolute_url()))
    (data,) = [json.loads(text) for text in head.json_ld]
    assert data["@type"] == "LiveBlogPosting"
    assert data["headline"] == story.headline
    assert data["description"] == "First paragraph of the lede."
    assert data["coverageStartTime"] and data["coverageEndTime"]
    assert data["publisher"]["name"] == "Newsroom"
    updates = data["liveBlogUpdate"]
    assert [u["headline"] for u in updates] == ["Newer", "Older"]
    page = f"http://testserver{story.get_absolute_url()}"
    assert updates[1]["url"] == f"{page}#{older.anchor}"
    assert updates[1]["articleBody"].startswith("BAGHDAD — First paragraph.")
    assert updates[1]["datePublished"] == "2020-01-06T21:55:00+00:00"
    assert updates[1]["author"] == [
        {
            "@type": "Person",
            "name": "Dana Reyes",
            "url": f"http://testserver/people/{older.authors.get().slug}/",
        }
    ]
    assert "Draft only" not in json.dumps(data)


def test_structured_data_is_assembled_from_what_each_entry_keeps(client, seeded):
    story, older, _newer = seeded
    kept = {**older.structured_data, "headline": "As kept with the entry"}
    Entry.objects.filter(pk=older.pk).update(structured_data=kept)
    (data,) = [
        json.loads(text) for text in parse_head(client.get(story.get_absolute_url())).json_ld
    ]
    assert data["liveBlogUpdate"][1]["headline"] == "As kept with the entry"


def test_each_update_says_what_its_entry_keeps_with_absolute_author_urls(client, story):
    dana = PersonFactory(name="Dana Reyes — “DR”", slug="dana-reyes")
    tricky = 'Says "url": "/people/x/" and {"author": []} </script> in Zürich'
    entry = EntryFactory(story=story, headline=tricky, body=tricky, authors=[dana])
    (update,) = live_blog_posting(client, story)["liveBlogUpdate"]
    kept = Entry.objects.get(pk=entry.pk).structured_data
    page = f"http://testserver{story.get_absolute_url()}"
    assert update == {
        **kept,
        "author": [{**kept["author"][0], "url": "http://testserver/people/dana-reyes/"}],
        "url": f"{page}#{entry.anchor}",
    }
    assert update["headline"] == tricky


def live_blog_posting(client, story):
    (data,) = [
        json.loads(text) for text in parse_head(client.get(story.get_absolute_url())).json_ld
    ]
    return data


def test_a_live_storys_expected_end_is_a_day_after_its_latest_change(client, story):
    EntryFactory(story=story)
    updated_at = Story.objects.get(pk=story.pk).updated_at
    expected = datetime.fromisoformat(live_blog_posting(client, story)["coverageEndTime"])
    assert expected == updated_at + timedelta(hours=24)


def test_a_live_storys_expected_end_is_the_editors_until_coverage_runs_over(
    client, story, django_capture_on_commit_callbacks
):
    story.expected_end = datetime(2999, 1, 6, 23, 0, tzinfo=UTC)
    story.save()
    assert live_blog_posting(client, story)["coverageEndTime"] == "2999-01-06T23:00:00+00:00"
    story.expected_end = datetime(2020, 1, 6, tzinfo=UTC)  # passed, the story still live
    with django_capture_on_commit_callbacks(execute=True):
        story.save()
    updated_at = Story.objects.get(pk=story.pk).updated_at
    expected = datetime.fromisoformat(live_blog_posting(client, story)["coverageEndTime"])
    assert expected == updated_at + timedelta(hours=24)


def test_the_storys_image_is_its_newest_photo_else_the_default(
    client, story, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    EntryFactory(story=story)
    default = "http://testserver/static/liveblog/default-image.png"
    assert live_blog_posting(client, story)["image"] == [default]
    assert parse_head(client.get(story.get_absolute_url())).meta["og:image"] == default
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 800), (30, 90, 160)).save(buffer, format="JPEG")
    with django_capture_on_commit_callbacks(execute=True):
        with_photo = EntryFactory(
            story=story,
            photo=SimpleUploadedFile("a.jpg", buffer.getvalue(), content_type="image/jpeg"),
            photo_alt="Smoke over the base",
        )
        EntryFactory(story=story)  # newer, without a photo
    url = f"http://testserver{Entry.objects.get(pk=with_photo.pk).photo.url}"
    assert live_blog_posting(client, story)["image"] == [url]
    meta = parse_head(client.get(story.get_absolute_url())).meta
    assert (meta["og:image"], meta["og:image:alt"]) == (url, "Smoke over the base")


def jpeg(name):
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 800), (30, 90, 160)).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def og_image(client, story, **query):
    meta = parse_head(client.get(story.get_absolute_url(), query)).meta
    return meta["og:image"], meta["og:image:alt"]


def test_the_storys_image_is_never_a_draft_or_scheduled_photo(
    client, story, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        public = EntryFactory(story=story, photo=jpeg("public.jpg"), photo_alt="Seen")
        EntryFactory(
            story=story, photo=jpeg("draft.jpg"), photo_alt="Draft", status=Entry.Status.DRAFT
        )
        EntryFactory(
            story=story,
            photo=jpeg("later.jpg"),
            photo_alt="Scheduled",
            published_at=datetime(2999, 1, 1, tzinfo=UTC),
        )
    url = f"http://testserver{Entry.objects.get(pk=public.pk).photo.url}"
    assert og_image(client, story) == (url, "Seen")
    assert og_image(client, story, before=public.cursor) == (url, "Seen")


def test_a_scheduled_photo_becomes_the_storys_image_at_its_time(
    client, story, settings, tmp_path, clock, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        EntryFactory(story=story, published_at=clock.now)
        scheduled = EntryFactory(
            story=story,
            photo=jpeg("later.jpg"),
            photo_alt="At the top of the hour",
            published_at=clock.now + timedelta(minutes=10),
        )
    default = "http://testserver/static/liveblog/default-image.png"
    assert og_image(client, story)[0] == default
    clock.advance(minutes=11)
    cache.clear()  # the fake clock cannot expire the cached version and page
    url = f"http://testserver{Entry.objects.get(pk=scheduled.pk).photo.url}"
    assert og_image(client, story) == (url, "At the top of the hour")


def test_the_storys_image_goes_back_when_its_photo_is_taken_down(
    client, story, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        older = EntryFactory(story=story, photo=jpeg("older.jpg"), photo_alt="Older")
        newer = EntryFactory(story=story, photo=jpeg("newer.jpg"), photo_alt="Newer")
    assert og_image(client, story)[1] == "Newer"
    with django_capture_on_commit_callbacks(execute=True):
        newer.status = Entry.Status.DRAFT
        newer.save()
    assert og_image(client, story)[1] == "Older"
    with django_capture_on_commit_callbacks(execute=True):
        older.delete()
    assert og_image(client, story)[0] == "http://testserver/static/liveblog/default-image.png"


def test_the_storys_author_is_its_bylines_else_the_publisher(
    client, story, django_capture_on_commit_callbacks
):
    EntryFactory(story=story)
    assert live_blog_posting(client, story)["author"] == [
        {"@type": "Organization", "name": "Newsroom"}
    ]
    dana = PersonFactory(name="Dana Reyes")
    with django_capture_on_commit_callbacks(execute=True):
        EntryFactory(story=story, authors=[dana])
        EntryFactory(story=story, authors=[dana])
    assert live_blog_posting(client, story)["author"] == [
        {
            "@type": "Person",
            "name": "Dana Reyes",
            "url": f"http://testserver{dana.get_absolute_url()}",
        }
    ]


def test_structured_data_cannot_be_broken_out_of(client):
    story = StoryFactory(headline=HOSTILE, lede=HOSTILE)
    EntryFactory(story=story, headline=HOSTILE, body=HOSTILE)
    response = client.get(story.get_absolute_url())
    content = response.content.decode()
    assert "<script>alert(1)" not in content
    (data,) = [json.loads(text) for text in parse_head(response).json_ld]
    assert data["headline"] == HOSTILE
    assert data["liveBlogUpdate"][0]["headline"] == HOSTILE


def test_social_cards_describe_the_story(client, seeded):
    story = seeded[0]
    meta = parse_head(client.get(story.get_absolute_url())).meta
    assert meta["og:title"] == story.headline
    assert meta["og:description"] == "First paragraph of the lede."
    assert meta["og:url"] == f"http://testserver{story.get_absolute_url()}"
    assert meta["twitter:card"] == "summary_large_image"  # the default image, at least


@override_settings(
    ALLOWED_HOSTS=[".example.com"], LIVEBLOG_CANONICAL_ORIGIN="https://news.example.com"
)
def test_every_host_name_gets_the_one_page_of_the_canonical_origin(
    client, seeded, django_assert_num_queries
):
    story, older, _newer = seeded
    first = client.get(story.get_absolute_url(), headers={"host": "a.example.com"})
    with django_assert_num_queries(0):  # rendered once, for every host name
        again = client.get(story.get_absolute_url(), headers={"host": "b.example.com"})
    assert again.content == first.content
    page = f"https://news.example.com{story.get_absolute_url()}"
    head = parse_head(again)
    assert head.meta["og:url"] == page
    assert f'<link rel="canonical" href="{page}">' in again.content.decode()
    (data,) = [json.loads(text) for text in head.json_ld]
    assert data["url"] == page
    assert data["liveBlogUpdate"][1]["url"] == f"{page}#{older.anchor}"
    author_url = data["liveBlogUpdate"][1]["author"][0]["url"]
    assert author_url == f"https://news.example.com/people/{older.authors.get().slug}/"
    permalink = client.get(older.get_absolute_url(), headers={"host": "c.example.com"})
    assert parse_head(permalink).meta["og:url"] == (
        f"https://news.example.com{older.get_absolute_url()}"
    )


@override_settings(ALLOWED_HOSTS=[".example.com"])
def test_without_a_canonical_origin_a_page_names_the_host_it_was_asked_at(client, seeded):
    story = seeded[0]
    for host in ("a.example.com", "b.example.com"):
        response = client.get(story.get_absolute_url(), headers={"host": host})
        assert parse_head(response).meta["og:url"] == f"http://{host}{story.get_absolute_url()}"


def test_a_shared_entry_link_previews_that_entry(client, seeded):
    story, older, _newer = seeded
    meta = parse_head(client.get(older.get_absolute_url())).meta
    assert meta["og:title"] == "Older"
    assert meta["og:description"] == "BAGHDAD — First paragraph."
    assert meta["og:url"] == f"http://testserver/stories/{story.slug}/entries/{older.pk}/"


def test_social_cards_escape_hostile_text(client):
    story = StoryFactory(headline=HOSTILE, lede=HOSTILE)
    response = client.get(story.get_absolute_url())
    assert parse_head(response).meta["og:title"] == HOSTILE
    assert '"quotes"' not in response.content.decode().split("<body")[0].replace("&quot;", "")


# --- Sitemap and robots.txt -------------------------------------------------------------------


def test_sitemap_lists_public_stories_with_their_last_change(client):
    live = StoryFactory(status=Story.Status.LIVE)
    ended = StoryFactory(status=Story.Status.ENDED)
    StoryFactory(status=Story.Status.DRAFT, slug="secret")
    tree = ET.fromstring(client.get("/sitemap.xml").content)  # noqa: S314 - our own output
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = {
        url.find("s:loc", ns).text: url.find("s:lastmod", ns).text
        for url in tree.findall("s:url", ns)
    }
    assert set(locs) == {f"http://testserver{s.get_absolute_url()}" for s in (live, ended)}
    assert all(locs.values())


def test_robots_txt_points_at_the_sitemap_and_keeps_crawlers_out_of_staff_pages(client):
    text = client.get("/robots.txt").content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in text
    assert "Disallow: /admin/" in text
    assert "Disallow: /preview/" in text


# --- JSON API ---------------------------------------------------------------------------------


def test_api_lists_public_stories_live_first(client):
    ended = StoryFactory(status=Story.Status.ENDED)
    live = StoryFactory(status=Story.Status.LIVE)
    StoryFactory(status=Story.Status.DRAFT)
    response = client.get("/api/stories/")
    assert [s["slug"] for s in response.json()["stories"]] == [live.slug, ended.slug]
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "s-maxage=" in response["Cache-Control"]


def test_api_story_has_its_pinned_key_points(client, story):
    KeyPointFactory(story=story, text="Pinned", position=1)
    KeyPointFactory(story=story, text="Not pinned", pinned=False)
    data = client.get(f"/api/stories/{story.slug}/").json()
    assert data["headline"] == story.headline
    assert [p["text"] for p in data["key_points"]] == ["Pinned"]
    assert data["entries_url"] == f"http://testserver/api/stories/{story.slug}/entries/"


def test_api_pages_entries_by_cursor(client, story):
    entries = [EntryFactory(story=story) for _ in range(5)]
    first = client.get(f"/api/stories/{story.slug}/entries/", {"limit": 2}).json()
    assert [e["id"] for e in first["entries"]] == [entries[4].pk, entries[3].pk]
    second = client.get(first["next"].removeprefix("http://testserver")).json()
    assert [e["id"] for e in second["entries"]] == [entries[2].pk, entries[1].pk]
    entry = second["entries"][0]
    assert entry["html"] == Entry.objects.get(pk=entries[2].pk).html
    assert entry["headline"] == entries[2].headline
    assert entry["text"].startswith("WASHINGTON — ")
    third = client.get(second["next"].removeprefix("http://testserver")).json()
    assert [e["id"] for e in third["entries"]] == [entries[0].pk]
    assert third["next"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "x"},
        {"limit": "²"},
        {"limit": "9" * 10_000},  # more digits than int() reads
        {"before": "nope"},
    ],
)
def test_api_answers_bad_parameters_with_a_400_and_a_reason(client, story, params):
    response = client.get(f"/api/stories/{story.slug}/entries/", params)
    assert response.status_code == 400
    assert response.json()["error"]


def test_api_404s_for_a_draft_story_like_a_missing_one(client):
    StoryFactory(status=Story.Status.DRAFT, slug="secret")
    for url in ("/api/stories/secret/", "/api/stories/secret/entries/", "/api/stories/nothing/"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.json() == {"error": "No such story."}


@pytest.mark.parametrize("size", [1, 30])
def test_api_query_counts_are_constant(client, story, django_assert_num_queries, size):
    grow_story(story, size)
    with django_assert_num_queries(1):
        client.get("/api/stories/")
    with django_assert_num_queries(1):  # the story, its key points kept with it
        client.get(f"/api/stories/{story.slug}/")
    with django_assert_num_queries(3):  # story, entries, their authors
        client.get(f"/api/stories/{story.slug}/entries/")


@pytest.mark.parametrize("size", [1, 30])
def test_feed_query_count_is_constant(client, story, django_assert_num_queries, size):
    grow_story(story, size)
    with django_assert_num_queries(3):  # story, entries, their authors
        client.get(f"/stories/{story.slug}/feed/rss/")


# --- Embed -----------------------------------------------------------------------------------


@override_settings(LIVEBLOG_EMBED_ORIGINS=["https://partner.example"])
def test_only_the_embed_may_be_framed_and_only_by_configured_origins(client, seeded):
    story = seeded[0]
    embed = client.get(f"/stories/{story.slug}/embed/")
    assert embed.status_code == 200
    assert "X-Frame-Options" not in embed
    assert csp(embed)["frame-ancestors"] == "'self' https://partner.example"
    assert csp(embed)["script-src"] == "'self'"
    page = client.get(story.get_absolute_url())
    assert page["X-Frame-Options"] == "DENY"
    assert csp(page)["frame-ancestors"] == "'none'"


def csp(response):
    directives = (
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    return {name: value for name, value in directives}


def test_embed_shows_key_points_and_the_stream_without_site_chrome(client, seeded):
    story = seeded[0]
    KeyPointFactory(story=story, text="A key point")
    content = client.get(f"/stories/{story.slug}/embed/").content.decode()
    assert "A key point" in content
    assert "Newer" in content and "Draft only" not in content
    assert "site-header" not in content and "site-footer" not in content
    assert 'data-updates-url="/stories/' in content


@pytest.mark.parametrize("size", [1, 30])
def test_embed_query_count_is_constant(client, story, django_assert_num_queries, size):
    grow_story(story, size)
    with django_assert_num_queries(2):  # the story (its key points kept with it), the page
        client.get(f"/stories/{story.slug}/embed/")


def test_the_story_admin_page_has_a_copyable_embed_snippet(client, editor, story):
    client.force_login(editor)
    content = client.get(f"/admin/liveblog/story/{story.pk}/change/").content.decode()
    assert f"&lt;iframe src=&quot;http://testserver/stories/{story.slug}/embed/&quot;" in content


def test_the_embed_snippet_escapes_the_headline(client, editor):
    story = StoryFactory(headline='Iran fires "dozens" of missiles <b>& more</b>')
    client.force_login(editor)
    content = client.get(f"/admin/liveblog/story/{story.pk}/change/").content.decode()
    textarea = re.search(r'<textarea id="embed-snippet"[^>]*>(.*?)</textarea>', content, re.S)
    snippet = html.unescape(textarea[1])  # what the editor copies

    class Tags(HTMLParser):
        def __init__(self):
            super().__init__()
            self.found = []

        def handle_starttag(self, tag, attrs):
            self.found.append((tag, dict(attrs)))

    parser = Tags()
    parser.feed(snippet)
    assert [tag for tag, _ in parser.found] == ["iframe"]
    attrs = parser.found[0][1]
    assert attrs["title"] == f"{story.headline} (live updates)"
    assert attrs["src"] == f"http://testserver/stories/{story.slug}/embed/"


def test_a_shared_entry_with_a_photo_previews_its_photo(client, story, settings, tmp_path):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from liveblog import renditions
    from liveblog.images import clean_image

    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 800)).save(buffer, format="JPEG")
    entry = EntryFactory.build(story=story, photo_alt="Troops at the base")
    entry.photo = clean_image(SimpleUploadedFile("base.jpg", buffer.getvalue()))
    entry.save()
    renditions.make_due()  # as the app's worker does after the answer
    meta = parse_head(client.get(entry.get_absolute_url())).meta
    assert meta["og:image"].startswith("http://testserver/media/renditions/")
    assert meta["og:image:alt"] == "Troops at the base"
    assert meta["twitter:card"] == "summary_large_image"


def test_the_embed_names_the_story_page_canonical_by_its_absolute_url(client, story):
    content = client.get(f"{story.get_absolute_url()}embed/").content.decode()
    assert f'<link rel="canonical" href="http://testserver{story.get_absolute_url()}">' in content
