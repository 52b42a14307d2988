"""The change pipeline (liveblog/changes.py): one version per story and batch, told to
readers only once its transaction commits. Past 300 lines: one test per path a change
takes, the bulk operations' counts included."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from liveblog import changes, purge
from liveblog.models import Entry, KeyPoint, Purge, Story, StoryChange
from liveblog.roles import EDITORS

from .admin_posts import change_url, story_post
from .factories import EntryFactory, KeyPointFactory, PersonFactory, StoryFactory
from .test_purges import Endpoint

pytestmark = pytest.mark.django_db


def steps(story, since):
    """The story's change log after version ``since``: (versions after it, kinds, entry
    ids) per step."""
    log = story.changes.filter(version__gt=since).values_list("version", "kinds", "entry_ids")
    return [(number - since, kinds, ids) for number, kinds, ids in log]


def version(story):
    return Story.objects.get(pk=story.pk).version


def test_an_announcement_outside_a_batch_is_a_change_of_its_own(story):
    start = version(story)
    changes.announce(story.pk, StoryChange.Kind.KEY_POINTS)
    changes.announce(story.pk, StoryChange.Kind.STORY)
    assert steps(story, start) == [(1, ["key_points"], []), (2, ["story"], [])]


def test_a_batch_makes_one_change_per_story_with_every_kind_and_entry(story):
    start = version(story)
    other = StoryFactory()
    other_start = version(other)
    with changes.batch():
        first = EntryFactory(story=story)
        second = EntryFactory(story=story)
        KeyPointFactory(story=story)
        EntryFactory(story=other)
    assert steps(story, start) == [(1, ["entry", "key_points"], sorted([first.pk, second.pk]))]
    assert version(other) == other_start + 1


def test_nothing_is_announced_when_the_transaction_rolls_back(story):
    start = version(story)
    with pytest.raises(RuntimeError), changes.batch():
        EntryFactory(story=story)
        raise RuntimeError("the save failed")
    assert steps(story, start) == []
    assert version(story) == start
    assert not Entry.objects.exists()


def test_readers_learn_of_a_change_only_after_it_commits(
    client, story, django_capture_on_commit_callbacks
):
    start = version(story)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        EntryFactory(story=story, headline="Not yet committed")
    assert changes.cached_version(story.slug) is None
    for callback in callbacks:
        callback()
    assert changes.cached_version(story.slug) == start + 1


def test_a_cached_version_means_a_public_story(story, django_capture_on_commit_callbacks):
    start = version(story)
    with django_capture_on_commit_callbacks(execute=True):
        EntryFactory(story=story)
    assert changes.cached_version(story.slug) == start + 1
    with django_capture_on_commit_callbacks(execute=True):
        story.status = Story.Status.DRAFT
        story.save()
    assert changes.cached_version(story.slug) is None


def test_the_version_is_cached_for_a_bounded_time(story, monkeypatch, clock):
    written = []

    class Recording:
        def set(self, key, value, timeout):
            written.append(timeout)

        def delete(self, key):
            pass

    monkeypatch.setattr(changes, "cache", Recording())
    changes.publish_versions([story.pk])
    EntryFactory(story=story, published_at=clock.now + timedelta(seconds=20))
    changes.publish_versions([story.pk])
    assert written == [60, 21]


def test_a_story_created_live_is_announced_and_a_draft_is_not(db):
    live = StoryFactory(status=Story.Status.LIVE)
    draft = StoryFactory(status=Story.Status.DRAFT)
    assert steps(live, 0) == [(1, ["story"], [])]
    assert steps(draft, 0) == []


def test_a_savepoint_rolled_back_in_a_batch_leaves_the_stored_html_alone(story):
    entry = EntryFactory(story=story, headline="As published")
    with changes.batch():
        try:
            with transaction.atomic():
                entry.headline = "Never saved"
                entry.save()
                raise RuntimeError("the rest of the form failed")
        except RuntimeError:
            pass
    stored = Entry.objects.get(pk=entry.pk)
    assert stored.headline == "As published"
    assert "As published" in stored.html and "Never saved" not in stored.html


def test_an_outer_rollback_after_a_batch_undoes_its_change(story):
    start = version(story)
    with pytest.raises(RuntimeError), transaction.atomic():
        with changes.batch():
            EntryFactory(story=story)
        raise RuntimeError("the caller's transaction fails after the batch")
    assert version(story) == start
    assert steps(story, start) == []


def test_an_older_version_published_last_does_not_stay(story, monkeypatch):
    EntryFactory(story=story)
    older = version(story)

    class NewerCommitLandsFirst:
        """The cache as a newer commit sees it: it publishes between this commit's
        read of the row and its write, so the older version is written last."""

        def set(self, key, value, timeout):
            Story.objects.filter(pk=story.pk).update(version=value + 1)
            cache.set(key, value + 1, timeout)
            cache.set(key, value, timeout)

        def delete(self, key):
            cache.delete(key)

    monkeypatch.setattr(changes, "cache", NewerCommitLandsFirst())
    changes.publish_versions([story.pk])
    assert cache.get(changes.version_key(story.slug)) != older


def test_a_change_to_many_entries_tells_readers_to_reload(story):
    start = version(story)
    with changes.batch():
        for _ in range(changes.MAX_ENTRIES_PER_CHANGE + 1):
            EntryFactory(story=story)
    assert steps(story, start) == [(1, ["reload"], [])]


def test_an_entry_posted_with_bylines_on_the_desk_is_one_change(
    client, reporter, other_reporter, story
):
    start = version(story)
    client.force_login(reporter)
    client.post(
        reverse("liveblog:desk", args=[story.slug]),
        {
            "headline": "Senators to be briefed",
            "body": "Officials will brief senators.",
            "authors": [reporter.person.pk, other_reporter.person.pk],
            "submission_id": str(uuid.uuid4()),
            "action": "publish",
        },
    )
    entry = Entry.objects.get()
    assert steps(story, start) == [(1, ["entry"], [entry.pk])]
    assert "Senators to be briefed" in entry.html and reporter.person.name in entry.html


def test_an_entry_saved_with_bylines_in_the_admin_is_one_change(client, editor, story):
    client.force_login(editor)
    entry = EntryFactory(story=story)
    before = version(story)
    client.post(
        change_url(entry),
        {
            "story": story.pk,
            "published_at_0": "2020-01-06",
            "published_at_1": "21:00:00",
            "status": "published",
            "headline": "Edited in the admin",
            "body": "Body.",
            "authors": [editor.person.pk],
            "revision": Entry.objects.get(pk=entry.pk).revision,
        },
    )
    assert version(story) == before + 1
    assert editor.person.name in Entry.objects.get(pk=entry.pk).html


def test_a_story_saved_with_its_key_points_in_the_admin_is_one_change(client, editor, story):
    start = version(story)
    client.force_login(editor)
    response = client.post(change_url(story), story_post(story, lede="A new lede."))
    assert response.status_code == 302
    assert steps(story, start) == [(1, ["key_points", "story"], [])]


def test_publishing_many_entries_from_the_admin_is_one_change(client, editor, story):
    drafts = [EntryFactory(story=story, status=Entry.Status.DRAFT) for _ in range(3)]
    before = version(story)
    client.force_login(editor)
    client.post(
        reverse("admin:liveblog_entry_changelist"),
        {"action": "publish_selected", "_selected_action": [e.pk for e in drafts]},
    )
    assert version(story) == before + 1
    assert Entry.objects.public().count() == 3


def test_moving_a_key_point_is_one_change(client, editor, story):
    first, second, third = (KeyPointFactory(story=story, position=n) for n in (1, 2, 3))
    before = version(story)
    client.force_login(editor)
    url = reverse("liveblog:desk_key_point", args=[story.slug, third.pk])
    assert client.post(url, {"action": "up"}).status_code == 302
    assert version(story) == before + 1
    assert list(KeyPoint.objects.public().filter(story=story)) == [first, third, second]


def test_renaming_a_person_is_one_change_per_story(story):
    other = StoryFactory()
    author = PersonFactory(name="Dana Reyes")
    for each in (story, story, story, other, other):
        EntryFactory(story=each, authors=[author])
    before = {s.pk: version(s) for s in (story, other)}
    author.name = "Dana Reyes-Whitman"
    author.save()
    assert {s.pk: version(s) for s in (story, other)} == {
        pk: number + 1 for pk, number in before.items()
    }
    assert all("Dana Reyes-Whitman" in e.html for e in Entry.objects.all())


def test_rendering_every_entry_again_is_one_reload_per_story(story):
    other = StoryFactory()
    for each in (story, story, other):
        EntryFactory(story=each)
    Entry.objects.update(html="stale", structured_data={})
    before = {s.pk: version(s) for s in (story, other)}
    call_command("render_entries", stdout=None)
    assert {s.pk: version(s) for s in (story, other)} == {
        pk: number + 1 for pk, number in before.items()
    }
    assert story.changes.last().kinds == ["reload"]
    assert not Entry.objects.filter(html="stale").exists()
    assert not Entry.objects.filter(structured_data={}).exists()


def test_an_entry_keeps_what_its_structured_data_says_of_it(story):
    author = PersonFactory(name="Dana Reyes", slug="dana-reyes")
    entry = EntryFactory(
        story=story,
        headline="Strike",
        dateline="BAGHDAD",
        body="**Missiles** hit.",
        authors=[author],
    )
    assert Entry.objects.get(pk=entry.pk).structured_data == {
        "@type": "BlogPosting",
        "headline": "Strike",
        "articleBody": "BAGHDAD — Missiles hit.",
        "datePublished": entry.published_at.isoformat(),
        "dateModified": entry.published_at.isoformat(),
        "author": [{"@type": "Person", "name": "Dana Reyes", "url": "/people/dana-reyes/"}],
    }


def test_structured_data_follows_the_bylines(story):
    author, other = PersonFactory(name="Dana Reyes"), PersonFactory(name="Lee Park")
    entry = EntryFactory(story=story, authors=[author])
    author.name = "Dana Reyes-Whitman"
    author.save()
    entry.authors.add(other)

    def bylines():
        return [a["name"] for a in Entry.objects.get(pk=entry.pk).structured_data["author"]]

    assert sorted(bylines()) == ["Dana Reyes-Whitman", "Lee Park"]
    entry.authors.remove(author)
    assert bylines() == ["Lee Park"]


def test_loading_the_demo_is_one_change(db, settings):
    settings.DEBUG = True  # the demo is for development only
    call_command("load_demo", stdout=None)
    story = Story.objects.get()
    assert steps(story, 0) == [(1, ["reload"], [])]
    before = version(story)
    call_command("load_demo", "--reset", stdout=None)
    assert version(story) == before + 1


def test_deleting_entries_in_bulk_is_one_change(story):
    entries = [EntryFactory(story=story) for _ in range(3)]
    before = version(story)
    with transaction.atomic(), changes.batch():
        Entry.objects.filter(story=story).delete()
    assert steps(story, before) == [(1, ["entry_removed"], sorted(e.pk for e in entries))]


def test_deleting_a_story_forgets_its_version(story, django_capture_on_commit_callbacks):
    start = version(story)
    with django_capture_on_commit_callbacks(execute=True):
        EntryFactory(story=story)
    assert cache.get(changes.version_key(story.slug)) == start + 1
    with django_capture_on_commit_callbacks(execute=True):
        story.delete()
    assert cache.get(changes.version_key(story.slug)) is None


def rename_a_person(stories, client):
    author = PersonFactory(name="Dana Reyes")
    for story in stories:
        EntryFactory(story=story, authors=[author])
        EntryFactory(story=story, authors=[author])

    def rename():
        author.name = "Dana Reyes-Whitman"
        author.save()

    return rename


def publish_in_the_admin(stories, client):
    editor = Group.objects.get(name=EDITORS).user_set.get()
    drafts = [EntryFactory(story=s, status=Entry.Status.DRAFT) for s in stories for _ in "ab"]
    client.force_login(editor)
    return lambda: client.post(
        reverse("admin:liveblog_entry_changelist"),
        {"action": "publish_selected", "_selected_action": [e.pk for e in drafts]},
    )


def reorder_key_points(stories, client):
    editor = Group.objects.get(name=EDITORS).user_set.get()
    KeyPointFactory(story=stories[0], position=1)
    last = KeyPointFactory(story=stories[0], position=2)
    client.force_login(editor)
    url = reverse("liveblog:desk_key_point", args=[stories[0].slug, last.pk])
    return lambda: client.post(url, {"action": "up"})


def render_every_entry(stories, client):
    for story in stories:
        EntryFactory(story=story)
    return lambda: call_command("render_entries", stdout=None)


@pytest.mark.parametrize(
    ("operation", "stories_touched"),
    [
        (rename_a_person, 2),
        (publish_in_the_admin, 2),
        (reorder_key_points, 1),
        (render_every_entry, 2),
    ],
)
def test_a_bulk_operation_is_one_version_and_one_purge_per_story(
    settings,
    client,
    editor,
    operation,
    stories_touched,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    endpoint = Endpoint()
    settings.LIVEBLOG_PURGE_URL = endpoint.url
    queued = []
    queue = purge.queue

    def counting_queue(*keys):
        # Counted before the queue merges repeats: the pipeline itself asks once.
        queued.extend(keys)
        queue(*keys)

    try:
        stories = [StoryFactory(), StoryFactory()]
        run = operation(stories, client)
        before = {s.pk: version(s) for s in stories}
        Purge.objects.all().delete()
        monkeypatch.setattr(purge, "queue", counting_queue)
        with django_capture_on_commit_callbacks(execute=True):
            run()
        purge.send_due()
    finally:
        endpoint.close()
    touched = stories[:stories_touched]
    assert {s.pk: version(s) - before[s.pk] for s in stories} == {
        s.pk: int(s in touched) for s in stories
    }
    # Each story's key is asked for once; the list of stories once per batch (one per
    # story for render_entries, which works story by story), merged in the queue.
    story_keys = sorted(purge.story_key(s.slug) for s in touched)
    assert sorted(k for k in queued if k != purge.LISTS_KEY) == story_keys
    assert 1 <= queued.count(purge.LISTS_KEY) <= len(touched)
    assert sorted(endpoint.purged) == sorted([purge.LISTS_KEY, *story_keys])


def test_loading_the_demo_is_one_purge(settings, django_capture_on_commit_callbacks):
    settings.DEBUG = True  # the demo is for development only
    endpoint = Endpoint()
    settings.LIVEBLOG_PURGE_URL = endpoint.url
    try:
        with django_capture_on_commit_callbacks(execute=True):
            call_command("load_demo", stdout=None)
        purge.send_due()
    finally:
        endpoint.close()
    story = Story.objects.get()
    assert sorted(endpoint.purged) == sorted([purge.LISTS_KEY, purge.story_key(story.slug)])
