"""Editorial workflow: scheduled entries, previews, pins, roles, the editors' log and
login throttling."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.http import QueryDict
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from liveblog.changes import version_key
from liveblog.forms import EntryAdminForm
from liveblog.models import AuditEvent, Entry, Story
from liveblog.pagination import encode_cursor

from .admin_posts import admin_entry_post, change_url
from .factories import EntryFactory, KeyPointFactory, StoryFactory

pytestmark = pytest.mark.django_db

SECRET = "Embargoed: the minister resigns"


# --- Scheduled entries -----------------------------------------------------------------


def test_a_scheduled_entry_appears_at_its_time_and_reaches_open_pages(
    client, story, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        EntryFactory(story=story, headline="Already out", published_at=clock.now)
        scheduled = EntryFactory(
            story=story,
            headline="At the top of the hour",
            published_at=clock.now + timedelta(minutes=10),
        )
    page = client.get(story.get_absolute_url()).content.decode()
    assert "Already out" in page
    assert "At the top of the hour" not in page
    version = int(re.search(r'data-version="(\d+)"', page).group(1))
    assert client.get(f"/stories/{story.slug}/updates/{version}/").json()["entries"] == []

    clock.advance(minutes=11)
    # The cached version expires at the entry's time (see the next test); the fake clock
    # cannot move the cache's own clock, so expire it by hand.
    cache.delete(version_key(story.slug))
    payload = client.get(f"/stories/{story.slug}/updates/{version}/").json()
    assert [e["id"] for e in payload["entries"]] == [scheduled.pk]
    assert "At the top of the hour" in client.get(story.get_absolute_url()).content.decode()


def test_the_version_is_not_cached_past_the_next_scheduled_entry(
    story, clock, django_capture_on_commit_callbacks
):
    from liveblog.changes import version_lifetime

    with django_capture_on_commit_callbacks(execute=True):
        EntryFactory(story=story, published_at=clock.now + timedelta(seconds=30))
    story.refresh_from_db()
    assert story.next_due_at == clock.now + timedelta(seconds=30)
    assert 0 < version_lifetime(story.next_due_at) <= 31


def test_a_due_entry_is_announced_by_the_next_change_if_no_reader_did(
    client, story, clock, django_capture_on_commit_callbacks
):
    """A scheduled entry comes due, and before any reader's request announces it, a
    reporter saves a draft in the same story: the change announces the due entry too,
    rather than noting the next due time past it and leaving it untold."""
    with django_capture_on_commit_callbacks(execute=True):
        EntryFactory(story=story, published_at=clock.now)
        scheduled = EntryFactory(story=story, published_at=clock.now + timedelta(minutes=10))
    story.refresh_from_db()
    version = story.version
    clock.advance(minutes=11)
    with django_capture_on_commit_callbacks(execute=True):
        EntryFactory(story=story, status=Entry.Status.DRAFT)
    story.refresh_from_db()
    assert story.version == version + 1 and story.next_due_at is None
    cache.delete(version_key(story.slug))
    payload = client.get(f"/stories/{story.slug}/updates/{version}/").json()
    assert [e["id"] for e in payload["entries"]] == [scheduled.pk]


def test_an_older_page_announces_a_due_entry_too(client, story, clock):
    """Every story page announces what came due, older pages too: the story's picture
    and version follow it there as on the first page."""
    first = EntryFactory(story=story, published_at=clock.now - timedelta(minutes=5))
    EntryFactory(story=story, published_at=clock.now + timedelta(minutes=1))
    story.refresh_from_db()
    version = story.version
    clock.advance(minutes=2)
    cursor = encode_cursor(first)
    assert client.get(story.get_absolute_url(), {"before": cursor}).status_code == 200
    story.refresh_from_db()
    assert story.version == version + 1 and story.next_due_at is None


def test_a_key_point_prepared_for_a_scheduled_entry_links_to_it_once_it_appears(
    client, story, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        EntryFactory(story=story, published_at=clock.now - timedelta(minutes=5))
        scheduled = EntryFactory(story=story, published_at=clock.now + timedelta(minutes=10))
        draft = EntryFactory(story=story, status=Entry.Status.DRAFT)
        KeyPointFactory(story=story, text="Prepared point", entry=scheduled)
        KeyPointFactory(story=story, text="Draft point", entry=draft)
    page = client.get(story.get_absolute_url()).content.decode()
    assert "Prepared point" in page and "Draft point" in page
    assert f"#entry-{scheduled.pk}" not in page
    assert f"#entry-{draft.pk}" not in page

    story.refresh_from_db()
    version = story.version

    clock.advance(minutes=11)
    cache.delete(version_key(story.slug))  # as the version expires at the entry's time
    link = f'/entries/{scheduled.pk}/#entry-{scheduled.pk}">Read the update</a>'
    # Open pages get the key points again with the entry: a "key updates only" reader
    # learns from them that it is a key update.
    update = client.get(f"/stories/{story.slug}/updates/{version}/").json()
    assert [entry["id"] for entry in update["entries"]] == [scheduled.pk]
    assert link in update["key_points_html"]
    page = client.get(story.get_absolute_url()).content.decode()
    assert link in page
    assert f"#entry-{draft.pk}" not in page
    api = client.get(f"/api/stories/{story.slug}/").json()
    assert [point["entry_id"] for point in api["key_points"]] == [scheduled.pk, None]


def test_the_api_announces_a_due_entry_as_the_pages_do(client, story, clock):
    EntryFactory(story=story, published_at=clock.now + timedelta(minutes=1))
    story.refresh_from_db()
    clock.advance(minutes=2)
    api = client.get(f"/api/stories/{story.slug}/").json()
    assert api["version"] == story.version + 1


def test_a_scheduled_entry_is_announced_once(client, story, clock):
    EntryFactory(story=story, published_at=clock.now + timedelta(minutes=1))
    clock.advance(minutes=2)
    story.refresh_from_db()
    story.release_due_entries()
    after_first = Story.objects.get(pk=story.pk).version
    story.release_due_entries()
    Story.objects.get(pk=story.pk).release_due_entries()
    assert Story.objects.get(pk=story.pk).version == after_first
    assert Story.objects.get(pk=story.pk).next_due_at is None


def test_scheduling_an_entry_moves_nothing_readers_see_until_it_appears(
    client, reporter, story, clock, django_capture_on_commit_callbacks
):
    from liveblog.sitemaps import StorySitemap

    EntryFactory(story=story, published_at=clock.now - timedelta(minutes=5))
    before = Story.objects.values("version", "updated_at").get(pk=story.pk)
    clock.advance(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        scheduled = EntryFactory(
            story=story, published_at=clock.now + timedelta(minutes=30), authors=[reporter.person]
        )
        scheduled.headline = "Rewritten before it runs"
        scheduled.save()
        EntryFactory(story=story, status=Entry.Status.DRAFT)
    story.refresh_from_db()
    assert {"version": story.version, "updated_at": story.updated_at} == before
    assert StorySitemap().lastmod(story) == before["updated_at"]
    assert story.next_due_at == scheduled.published_at
    assert "Rewritten before it runs" in Entry.objects.get(pk=scheduled.pk).html  # ready

    clock.advance(minutes=31)
    cache.delete(version_key(story.slug))  # the fake clock cannot expire the cache's keys
    client.get(story.get_absolute_url())  # the first request after its time announces it
    story.refresh_from_db()
    assert story.version == before["version"] + 1
    assert story.updated_at == clock.now
    assert StorySitemap().lastmod(story) == clock.now


# --- Preview ---------------------------------------------------------------------------


def test_authors_preview_their_draft_behind_login(client, reporter, story):
    entry = EntryFactory(
        story=story, status=Entry.Status.DRAFT, headline=SECRET, authors=[reporter.person]
    )
    url = reverse("liveblog:entry_preview", args=[story.slug, entry.pk])
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(reporter)
    response = client.get(url)
    assert response.status_code == 200
    assert SECRET in response.content.decode()
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex"


def test_another_reporter_cannot_preview_a_draft(client, reporter, other_reporter, story):
    entry = EntryFactory(story=story, status=Entry.Status.DRAFT, authors=[reporter.person])
    client.force_login(other_reporter)
    assert (
        client.get(reverse("liveblog:entry_preview", args=[story.slug, entry.pk])).status_code
        == 404
    )


def test_editors_preview_a_draft_story_with_its_scheduled_entries(client, editor, reporter):
    story = StoryFactory(status=Story.Status.DRAFT)
    EntryFactory(story=story, headline=SECRET, published_at=timezone.now() + timedelta(hours=2))
    url = reverse("liveblog:story_preview", args=[story.slug])
    client.force_login(reporter)
    assert client.get(url).status_code == 403
    client.force_login(editor)
    content = client.get(url).content.decode()
    assert SECRET in content
    assert "Scheduled: appears" in content


# --- Pinned entry, roles and the editors' log ------------------------------------------------


def test_a_pinned_entry_stands_above_the_stream_once(client, editor, story):
    pinned = EntryFactory(story=story, headline="Editor's summary")
    EntryFactory(story=story, headline="Later news")
    client.force_login(editor)
    client.post(
        reverse("admin:liveblog_entry_changelist"),
        {"action": "pin_to_story", "_selected_action": [pinned.pk]},
    )
    client.logout()
    content = client.get(story.get_absolute_url()).content.decode()
    content = content[content.index("<main") :]
    assert content.count(f'id="{pinned.anchor}"') == 1
    assert (
        content.index("Editor’s note")
        < content.index(f'id="{pinned.anchor}"')
        < content.index("Later news")
    )
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.PINNED, user=editor, entry=pinned
    ).exists()


def test_a_reporter_cannot_pin_publish_or_unpublish_by_crafted_posts(client, reporter, story):
    entry = EntryFactory(story=story, authors=[reporter.person])
    client.force_login(reporter)
    for action in ("pin_to_story", "unpublish_selected"):
        client.post(
            reverse("admin:liveblog_entry_changelist"),
            {"action": action, "_selected_action": [entry.pk]},
        )
    client.post(change_url(entry), admin_entry_post(entry, status=Entry.Status.DRAFT))
    story.refresh_from_db()
    assert story.pinned_entry is None
    assert Entry.objects.get(pk=entry.pk).status == Entry.Status.PUBLISHED


def test_a_reporter_cannot_move_an_entry_to_another_story(client, reporter, story):
    entry = EntryFactory(story=story, authors=[reporter.person])
    other = StoryFactory()
    client.force_login(reporter)
    client.post(change_url(entry), admin_entry_post(entry, story=other.pk))
    assert Entry.objects.get(pk=entry.pk).story_id == story.pk


def test_a_reporter_cannot_make_a_story_live(client, reporter):
    story = StoryFactory(status=Story.Status.DRAFT)
    client.force_login(reporter)
    response = client.post(
        change_url(story), {"headline": story.headline, "slug": story.slug, "status": "live"}
    )
    assert response.status_code == 403
    assert Story.objects.get(pk=story.pk).status == Story.Status.DRAFT


def test_publish_unpublish_and_schedule_are_logged_with_who(client, editor, story):
    entry = EntryFactory(story=story)
    client.force_login(editor)
    changelist = reverse("admin:liveblog_entry_changelist")
    client.post(changelist, {"action": "unpublish_selected", "_selected_action": [entry.pk]})
    later = timezone.localtime(timezone.now() + timedelta(hours=3), story.tzinfo)
    client.post(
        change_url(entry),
        admin_entry_post(
            Entry.objects.get(pk=entry.pk),
            status=Entry.Status.PUBLISHED,
            published_at_0=later.strftime("%Y-%m-%d"),
            published_at_1=later.strftime("%H:%M:%S"),
        ),
    )
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "user__username"))
    assert actions == [("unpublished", "editor"), ("scheduled", "editor")]
    log = client.get(reverse("admin:liveblog_auditevent_changelist")).content.decode()
    assert "unpublished" in log and "scheduled" in log


def test_reporters_cannot_read_the_editors_log(client, reporter):
    client.force_login(reporter)
    assert client.get(reverse("admin:liveblog_auditevent_changelist")).status_code == 403


def test_unpublishing_removes_the_entry_for_open_pages(client, editor, story):
    entry = EntryFactory(story=story)
    at = Story.objects.get(pk=story.pk).version
    client.force_login(editor)
    client.post(
        reverse("admin:liveblog_entry_changelist"),
        {"action": "unpublish_selected", "_selected_action": [entry.pk]},
    )
    client.logout()
    assert client.get(f"/stories/{story.slug}/updates/{at}/").json()["removed"] == [entry.pk]


def test_key_point_changes_keep_a_revision(story):
    point = KeyPointFactory(story=story, text="First")
    point.text = "Second"
    point.save()
    assert [h.text for h in point.history.all()] == ["Second", "First"]


# --- Login throttling ----------------------------------------------------------------------


def test_admin_logins_lock_after_repeated_failures_for_that_user_and_address(
    client, settings, editor
):
    settings.AXES_FAILURE_LIMIT = 3
    login = reverse("admin:login")
    for _ in range(3):
        client.post(login, {"username": "editor", "password": "wrong"}, REMOTE_ADDR="10.0.0.1")
    locked = client.post(
        login,
        {"username": "editor", "password": "correct horse battery staple"},
        REMOTE_ADDR="10.0.0.1",
    )
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    # Another address, or another user from the same address, is not locked out.
    elsewhere = client.post(
        login,
        {"username": "editor", "password": "correct horse battery staple"},
        REMOTE_ADDR="10.0.0.2",
    )
    assert elsewhere.status_code == 302


def test_a_username_longer_than_any_account_gets_the_usual_answer(client):
    # django-axes stores a failed username in a varchar(255): 256 characters were a 500.
    response = client.post(reverse("admin:login"), {"username": "u" * 256, "password": "x"})
    assert response.status_code == 200
    assert "Please enter the correct username and password" in response.content.decode()


def test_authenticate_without_a_request_is_refused_not_crashed():
    from django.contrib.auth import authenticate

    request = RequestFactory().post("/admin/login/")
    assert authenticate(request, username="nobody", password="x") is None


def test_a_reporter_cannot_restore_a_revision_even_of_their_own_entry(client, reporter, story):
    entry = EntryFactory(story=story, status=Entry.Status.DRAFT, authors=[reporter.person])
    draft_revision = entry.history.get()
    entry.status = Entry.Status.PUBLISHED
    entry.save()
    client.force_login(reporter)
    url = reverse("admin:liveblog_entry_simple_history", args=[entry.pk, draft_revision.history_id])
    assert client.post(url, admin_entry_post(entry, status=Entry.Status.DRAFT)).status_code == 403
    assert Entry.objects.public().filter(pk=entry.pk).exists()


def test_a_reporter_cannot_hide_a_public_entry_by_moving_it_into_the_future(
    client, reporter, story
):
    entry = EntryFactory(story=story, authors=[reporter.person], published_at=timezone.now())
    later = timezone.localtime(timezone.now() + timedelta(days=365), story.tzinfo)
    client.force_login(reporter)
    response = client.post(
        change_url(entry),
        admin_entry_post(
            entry, published_at_0=later.strftime("%Y-%m-%d"), published_at_1="12:00:00"
        ),
    )
    assert response.status_code == 200
    assert "only an editor can move it into the future" in response.content.decode()
    assert Entry.objects.public().filter(pk=entry.pk).exists()


def test_the_entry_form_told_no_user_keeps_a_public_entry_from_the_future(story):
    entry = EntryFactory(story=story, published_at=timezone.now())
    later = timezone.now() + timedelta(days=365)
    data = QueryDict(mutable=True)
    data.update(admin_entry_post(entry, published_at=later.strftime("%Y-%m-%d %H:%M:%S")))
    form = EntryAdminForm(data, instance=entry)
    assert not form.is_valid()
    assert "only an editor can move it into the future" in str(form.errors["published_at"])


def test_a_save_that_does_not_say_its_revision_is_refused(client, editor, story):
    entry = EntryFactory(story=story, headline="Kept")
    client.force_login(editor)
    data = admin_entry_post(entry, headline="Blind overwrite")
    del data["revision"]
    response = client.post(change_url(entry), data)
    assert response.status_code == 200
    assert "open the page again" in response.content.decode()
    assert Entry.objects.get(pk=entry.pk).headline == "Kept"
