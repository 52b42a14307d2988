"""Live updates: the version, the change log and the polling protocol (updates.py).

Past 300 lines: one test per behaviour of the protocol readers' pages depend on,
kept together as the README's "Live updates" section is."""

import threading
from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.db import connection, connections
from django.template.loader import render_to_string

from liveblog import changes
from liveblog.changes import version_key
from liveblog.dates import machine_time
from liveblog.models import Entry, Story, StoryChange

from .factories import EntryFactory, KeyPointFactory, PersonFactory, StoryFactory, grow_story

pytestmark = pytest.mark.django_db


def updates(client, story, since, **headers):
    return client.get(f"/stories/{story.slug}/updates/{since}/", headers=headers)


def versions(story):
    return list(story.changes.values_list("version", flat=True))


def test_every_visible_change_advances_the_version_and_logs_it(story):
    entry = EntryFactory(story=story)
    entry.headline = "Edited"
    entry.save()
    entry.authors.add(PersonFactory())
    point = KeyPointFactory(story=story)
    point.delete()
    story.lede = "A new lede."
    story.save()
    entry_id = entry.pk
    entry.delete()
    story.refresh_from_db()
    steps = list(story.changes.values_list("kinds", "entry_ids"))
    assert steps == [
        (["story"], []),  # created live: on the front page and in the feeds
        (["entry"], [entry_id]),
        (["entry"], [entry_id]),
        (["entry"], [entry_id]),
        (["key_points"], []),
        (["key_points"], []),
        (["story"], []),
        (["entry_removed"], [entry_id]),
    ]
    assert versions(story) == list(range(1, 9))
    assert story.version == 8


def test_renaming_an_author_is_a_change_readers_get(client, story):
    author = PersonFactory(name="Dana Reyes")
    entry = EntryFactory(story=story, authors=[author])
    story.refresh_from_db()
    at = story.version
    author.name = "Dana Reyes-Whitman"
    author.save()
    payload = updates(client, story, at).json()
    assert [e["id"] for e in payload["entries"]] == [entry.pk]
    assert "Dana Reyes-Whitman" in payload["entries"][0]["html"]


def test_posting_an_entry_moves_the_story_up_the_front_page(story):
    other = StoryFactory()
    EntryFactory(story=story)
    assert list(Story.objects.for_front_page()) == [story, other]


def test_deleting_a_story_with_entries_and_key_points_works(story):
    EntryFactory(story=story)
    KeyPointFactory(story=story)
    story.delete()
    assert not StoryChange.objects.exists()


def test_updates_return_new_entries_as_the_stored_partial(client, story):
    first = EntryFactory(story=story)
    story.refresh_from_db()
    at = story.version
    second = EntryFactory(story=story)
    payload = updates(client, story, at).json()
    assert [e["id"] for e in payload["entries"]] == [second.pk]
    rendered = render_to_string("liveblog/_entry.html", {"entry": second, "story": story})
    assert payload["entries"][0]["html"] == rendered
    assert payload["entries"][0]["cursor"] == second.cursor
    assert payload["version"] == at + 1
    assert payload["removed"] == []
    assert first.pk not in [e["id"] for e in payload["entries"]]


def test_story_page_shows_the_same_entry_html_as_updates(client, story):
    entry = EntryFactory(story=story)
    page = client.get(story.get_absolute_url()).content.decode()
    assert Entry.objects.get(pk=entry.pk).html in page
    assert f'data-version="{Story.objects.get(pk=story.pk).version}"' in page


def test_updates_replace_edited_entries(client, story):
    entry = EntryFactory(story=story, headline="Before")
    at = Story.objects.get(pk=story.pk).version
    entry.headline = "After"
    entry.save()
    payload = updates(client, story, at).json()
    assert len(payload["entries"]) == 1
    assert "After" in payload["entries"][0]["html"]


def test_updates_list_deleted_entries_to_remove(client, story):
    entry = EntryFactory(story=story)
    EntryFactory(story=story)
    at = Story.objects.get(pk=story.pk).version
    entry_id = entry.pk
    entry.delete()
    payload = updates(client, story, at).json()
    assert payload["removed"] == [entry_id]
    assert payload["entries"] == []


def test_an_entry_posted_then_deleted_between_polls_is_only_removed(client, story):
    at = Story.objects.get(pk=story.pk).version
    entry = EntryFactory(story=story)
    entry_id = entry.pk
    entry.delete()
    payload = updates(client, story, at).json()
    assert payload["entries"] == []
    assert payload["removed"] == [entry_id]


def test_updates_send_key_points_when_they_change(client, story):
    at = Story.objects.get(pk=story.pk).version
    EntryFactory(story=story)
    assert updates(client, story, at).json()["key_points_html"] is None
    KeyPointFactory(story=story, text="Pentagon readies the Bataan group")
    payload = updates(client, story, at).json()
    assert "Pentagon readies the Bataan group" in payload["key_points_html"]


def test_updates_send_the_header_when_coverage_ends(client, story):
    at = Story.objects.get(pk=story.pk).version
    story.status = Story.Status.ENDED
    story.save()
    payload = updates(client, story, at).json()
    assert payload["status"] == "ended"
    assert "Coverage has ended" in payload["header_html"]


def test_updates_send_the_header_with_the_new_updated_time_when_an_entry_arrives(client, story):
    at = Story.objects.get(pk=story.pk).version
    EntryFactory(story=story)
    updated_at = Story.objects.get(pk=story.pk).updated_at
    payload = updates(client, story, at).json()
    shown = machine_time(updated_at, story.tzinfo)
    assert f'Updated <time datetime="{shown}">' in payload["header_html"]


def test_reader_at_the_current_version_gets_no_changes_and_revalidates_with_304(client, story):
    EntryFactory(story=story)
    current = Story.objects.get(pk=story.pk).version
    response = updates(client, story, current)
    assert response.status_code == 200
    assert response.json()["entries"] == [] and response.json()["version"] == current
    assert response["ETag"] == f'"{current}-{current}"'
    again = updates(client, story, current, if_none_match=response["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == response["ETag"]


def test_cache_revalidating_an_unchanged_answer_gets_304(client, story):
    EntryFactory(story=story)
    EntryFactory(story=story)
    response = updates(client, story, 1)
    assert response.status_code == 200
    again = updates(client, story, 1, if_none_match=response["ETag"])
    assert again.status_code == 304


def test_updates_are_cacheable_by_shared_caches(client, story):
    EntryFactory(story=story)
    cache_control = updates(client, story, 0)["Cache-Control"]
    assert "public" in cache_control
    assert "s-maxage=" in cache_control
    assert "stale-while-revalidate=" in cache_control
    assert "stale-if-error=" in cache_control
    assert "s-maxage=" in client.get(story.get_absolute_url())["Cache-Control"]


@pytest.mark.parametrize("since", ["abc", "-1", "1.5", "9" * 40, "1e3", "²", "١٢", "%20"])
def test_malformed_version_is_a_400_with_a_reason(client, story, since):
    response = updates(client, story, since)
    assert response.status_code == 400
    assert "since" in response.content.decode()


def test_future_version_asks_the_reader_to_reload(client, story):
    EntryFactory(story=story)
    payload = updates(client, story, 999).json()
    assert payload["reload"] is True
    assert payload["version"] == Story.objects.get(pk=story.pk).version


def test_reader_far_behind_is_asked_to_reload(client, story, settings):
    settings.LIVEBLOG_MAX_CHANGES = 3
    for _ in range(5):
        EntryFactory(story=story)
    current = Story.objects.get(pk=story.pk).version
    assert updates(client, story, current - 4).json()["reload"] is True
    assert updates(client, story, current - 3).json()["reload"] is False


def test_updates_of_a_draft_story_are_the_same_404_as_a_missing_one(client):
    draft = StoryFactory(status=Story.Status.DRAFT, slug="secret")
    EntryFactory(story=draft)
    assert updates(client, draft, 0).status_code == 404
    assert client.get("/stories/nothing/updates/0/").status_code == 404


def test_a_story_taken_back_to_draft_stops_answering_from_the_cache(
    client, story, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        EntryFactory(story=story)
    current = Story.objects.get(pk=story.pk).version
    assert updates(client, story, current).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        story.status = Story.Status.DRAFT
        story.save()
    assert updates(client, story, Story.objects.get(pk=story.pk).version).status_code == 404


@pytest.mark.parametrize("size", [2, 40])
def test_updates_query_count_is_constant(client, story, django_assert_num_queries, size):
    grow_story(story, size)
    cache.clear()
    since = Story.objects.get(pk=story.pk).version - 2  # one entry, one key point
    # story (its key points kept with it), version check, changes, entries
    with django_assert_num_queries(4):
        assert updates(client, story, since).status_code == 200


def test_polls_at_the_current_version_need_no_query_when_the_cache_is_warm(
    client, story, django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        EntryFactory(story=story)
    current = Story.objects.get(pk=story.pk).version
    assert cache.get(version_key(story.slug)) == current
    etag = f'"{current}-{current}"'
    with django_assert_num_queries(0):
        assert updates(client, story, current).status_code == 200
        assert updates(client, story, current, if_none_match=etag).status_code == 304
        assert (
            updates(
                client, story, current - 1, if_none_match=f'"{current - 1}-{current}"'
            ).status_code
            == 304
        )


def test_a_poll_with_a_cold_cache_needs_two_queries(client, story, django_assert_num_queries):
    EntryFactory(story=story)
    current = Story.objects.get(pk=story.pk).version
    cache.clear()
    with django_assert_num_queries(2):  # the story, then the check of the version it caches
        assert (
            updates(client, story, current, if_none_match=f'"{current}-{current}"').status_code
            == 304
        )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_get_consecutive_versions_without_gaps_or_duplicates():
    story = StoryFactory()
    writers, per_writer = 6, 10
    barrier = threading.Barrier(writers)
    errors = []

    def post(n):
        try:
            barrier.wait()
            for i in range(per_writer):
                EntryFactory(story=Story.objects.get(pk=story.pk), headline=f"Writer {n} post {i}")
        except Exception as e:
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    story.refresh_from_db()
    total = writers * per_writer + 1  # and the story's own creation, live
    assert story.version == total
    assert versions(story) == list(range(1, total + 1))
    entry_ids = [ids for step in story.changes.values_list("entry_ids", flat=True) for ids in step]
    assert sorted(entry_ids) == sorted(story.entries.values_list("pk", flat=True))


def test_an_entry_moved_to_another_story_is_removed_from_the_first(client, story):
    entry = EntryFactory(story=story)
    at = Story.objects.get(pk=story.pk).version
    entry.story = StoryFactory(status=Story.Status.DRAFT)
    entry.save()
    assert updates(client, story, at).json()["removed"] == [entry.pk]


def test_a_new_key_points_heading_reaches_readers(client, story):
    KeyPointFactory(story=story)
    story = Story.objects.get(pk=story.pk)
    at = story.version
    story.key_points_heading = "What we know so far:"
    story.save()
    assert "What we know so far:" in updates(client, story, at).json()["key_points_html"]


def test_a_new_time_zone_asks_open_pages_to_reload(client, story):
    entry = EntryFactory(story=story, published_at=datetime(2020, 1, 7, 5, 1, tzinfo=UTC))
    story = Story.objects.get(pk=story.pk)
    at = story.version
    story.time_zone = "Asia/Tokyo"
    story.save()
    assert updates(client, story, at).json()["reload"] is True
    html = Entry.objects.get(pk=entry.pk).html  # 12:01 a.m. in New York is 2:01 p.m. in Tokyo
    assert "2:01 p.m." in html
    assert 'data-day="2020-01-07"' in html


def test_deleting_a_person_removes_their_byline_for_readers(client, story):
    author = PersonFactory(name="Zed Gone")
    entry = EntryFactory(story=story, authors=[author])
    at = Story.objects.get(pk=story.pk).version
    author.delete()
    assert "Zed Gone" not in client.get(story.get_absolute_url()).content.decode()
    assert [e["id"] for e in updates(client, story, at).json()["entries"]] == [entry.pk]


def test_first_page_is_rendered_once_per_version(
    client, story, django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        EntryFactory(story=story, headline="First")
    client.get(story.get_absolute_url())
    with django_assert_num_queries(0):
        cached = client.get(story.get_absolute_url())
    assert "First" in cached.content.decode()
    assert "s-maxage=" in cached["Cache-Control"]
    with django_capture_on_commit_callbacks(execute=True):
        EntryFactory(story=story, headline="Second")
    assert "Second" in client.get(story.get_absolute_url()).content.decode()


def test_a_story_taken_back_to_draft_is_not_served_from_the_render_cache(
    client, story, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        EntryFactory(story=story)
    assert client.get(story.get_absolute_url()).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        story.status = Story.Status.DRAFT
        story.save()
    assert client.get(story.get_absolute_url()).status_code == 404


def test_a_version_read_before_a_change_committed_is_not_left_in_the_cache(story):
    from liveblog.changes import remember_version

    EntryFactory(story=story)
    stale = Story.objects.get(pk=story.pk)  # read, then another request commits a change
    EntryFactory(story=story)
    cache.delete(version_key(story.slug))  # as that change's on-commit hook does
    remember_version(stale)
    assert cache.get(version_key(story.slug)) is None


def test_a_page_rendered_as_the_story_went_back_to_draft_is_not_served(client, story):
    from liveblog.changes import remember_version

    EntryFactory(story=story, headline="Was public a moment ago")
    read_while_live = Story.objects.get(pk=story.pk)
    story.status = Story.Status.DRAFT
    story.save()
    cache.delete(version_key(story.slug))
    remember_version(read_while_live)
    assert client.get(story.get_absolute_url()).status_code == 404


def test_a_revalidating_poll_learns_of_a_change_from_another_process_within_a_moment(
    client, story, monkeypatch
):
    now = [1000.0]
    monkeypatch.setattr(changes, "monotonic", lambda: now[0])
    EntryFactory(story=story)
    current = Story.objects.get(pk=story.pk).version
    etag = f'"{current}-{current}"'
    updates(client, story, current)  # the version is cached
    assert updates(client, story, current, if_none_match=etag).status_code == 304
    EntryFactory(story=story, headline="From another process")
    cache.set(version_key(story.slug), current + 1)  # as that process's commit does
    now[0] += changes.RECENT_SECONDS / 2
    assert updates(client, story, current, if_none_match=etag).status_code == 304
    now[0] += changes.RECENT_SECONDS
    response = updates(client, story, current, if_none_match=etag)
    assert response.status_code == 200
    assert "From another process" in response.json()["entries"][0]["html"]


def test_a_plain_poll_learns_of_a_change_from_another_process_at_once(client, story):
    EntryFactory(story=story)
    current = Story.objects.get(pk=story.pk).version
    assert (
        updates(client, story, current, if_none_match=f'"{current}-{current}"').status_code == 304
    )
    EntryFactory(story=story, headline="From another process")
    cache.set(version_key(story.slug), current + 1)
    entries = updates(client, story, current).json()["entries"]
    assert "From another process" in entries[0]["html"]


def test_a_revalidating_poll_learns_of_this_process_change_at_once(
    client, story, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        EntryFactory(story=story)
    current = Story.objects.get(pk=story.pk).version
    etag = f'"{current}-{current}"'
    assert updates(client, story, current, if_none_match=etag).status_code == 304
    with django_capture_on_commit_callbacks(execute=True):
        EntryFactory(story=story, headline="Just posted here")
    response = updates(client, story, current, if_none_match=etag)
    assert response.status_code == 200
    assert "Just posted here" in response.json()["entries"][0]["html"]


def test_a_warm_first_page_is_one_cache_read_and_no_query(
    client, story, monkeypatch, django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        EntryFactory(story=story, headline="Cached")
    client.get(story.get_absolute_url())
    reads, depth = [], [0]

    def spy(name, read):
        def counted(*args, **kwargs):
            if not depth[0]:  # a backend's get_many may call its own get
                reads.append(name)
            depth[0] += 1
            try:
                return read(*args, **kwargs)
            finally:
                depth[0] -= 1

        return counted

    for name in ("get", "get_many", "has_key"):
        monkeypatch.setattr(cache, name, spy(name, getattr(cache, name)))
    with django_assert_num_queries(0):
        response = client.get(story.get_absolute_url())
    assert "Cached" in response.content.decode()
    assert reads == ["get_many"]


def test_key_points_written_while_the_story_was_a_draft_show_when_it_goes_live(client):
    draft = StoryFactory(status=Story.Status.DRAFT)
    KeyPointFactory(story=draft, text="Written before the story went live")
    draft.status = Story.Status.LIVE
    draft.save()
    assert (
        "Written before the story went live"
        in client.get(draft.get_absolute_url()).content.decode()
    )


def test_a_key_point_stops_linking_to_an_entry_that_is_deleted(client, story):
    entry = EntryFactory(story=story)
    KeyPointFactory(story=story, text="Linked", entry=entry)
    assert Story.objects.get(pk=story.pk).key_points_shown == [
        {"text": "Linked", "entry_id": entry.pk}
    ]
    entry.delete()
    assert Story.objects.get(pk=story.pk).key_points_shown == [{"text": "Linked", "entry_id": None}]


def test_remembering_a_version_already_cached_needs_no_check(story, django_assert_num_queries):
    from liveblog.changes import remember_version

    EntryFactory(story=story)
    current = Story.objects.get(pk=story.pk)
    cache.set(version_key(story.slug), current.version)
    with django_assert_num_queries(0):
        remember_version(current)
    assert cache.get(version_key(story.slug)) == current.version
