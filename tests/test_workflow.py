"""Editorial workflow: states that never leak, revisions, no lost updates, pins, roles."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.http import QueryDict
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from liveblog import urls as public_urls
from liveblog.changes import version_key
from liveblog.forms import EntryAdminForm
from liveblog.models import AuditEvent, EditConflict, Entry, Story

from .admin_posts import change_url, story_post
from .factories import EntryFactory, KeyPointFactory, PersonFactory, StoryFactory

pytestmark = pytest.mark.django_db

SECRET = "Embargoed: the minister resigns"


# --- Nothing unpublished reaches a public surface ------------------------------------


def hidden_entries():
    """Each way an entry can be not public, made in a live story (or a draft one)."""
    person = PersonFactory(slug="newsmaker")
    live = StoryFactory(slug="live")
    draft_story = StoryFactory(slug="draft-story", status=Story.Status.DRAFT, headline=SECRET)
    cases = {
        "draft": EntryFactory(story=live, status=Entry.Status.DRAFT, headline=SECRET),
        "scheduled": EntryFactory(
            story=live, published_at=timezone.now() + timedelta(hours=1), headline=SECRET
        ),
        "in a draft story": EntryFactory(story=draft_story, headline=SECRET),
    }
    unpublished = EntryFactory(story=live, headline=SECRET)
    unpublished.status = Entry.Status.DRAFT
    unpublished.save()
    cases["unpublished"] = unpublished
    for entry in cases.values():
        entry.authors.add(person)
        entry.people.add(person)
    return cases


# Every public URL of the app, and how to ask it about an entry. A new public view that
# is not added here fails test_every_public_view_is_in_the_table.
PUBLIC_SURFACES = {
    "front": lambda entry: "/",
    "story": lambda entry: f"/stories/{entry.story.slug}/",
    "entry": lambda entry: f"/stories/{entry.story.slug}/entries/{entry.pk}/",
    "person": lambda entry: "/people/newsmaker/",
    "updates": lambda entry: f"/stories/{entry.story.slug}/updates/0/",
    "embed": lambda entry: f"/stories/{entry.story.slug}/embed/",
    "story_rss": lambda entry: f"/stories/{entry.story.slug}/feed/rss/",
    "story_atom": lambda entry: f"/stories/{entry.story.slug}/feed/atom/",
    "latest_rss": lambda entry: "/feed/rss/",
    "latest_atom": lambda entry: "/feed/atom/",
    "api_stories": lambda entry: "/api/stories/",
    "api_story": lambda entry: f"/api/stories/{entry.story.slug}/",
    "api_entries": lambda entry: f"/api/stories/{entry.story.slug}/entries/?limit=100",
    "sitemap": lambda entry: "/sitemap.xml",
    "robots": lambda entry: "/robots.txt",
}
STAFF_ONLY = {
    "story_preview",
    "entry_preview",
    "desk",
    "desk_preview",
    "desk_pin",
    "desk_key_point",
}


def test_every_public_view_is_in_the_table():
    names = {pattern.name for pattern in public_urls.urlpatterns}
    assert names - STAFF_ONLY == set(PUBLIC_SURFACES)


@pytest.mark.parametrize("surface", sorted(PUBLIC_SURFACES))
def test_no_unpublished_entry_reaches_a_public_surface(client, surface):
    for state, entry in hidden_entries().items():
        response = client.get(PUBLIC_SURFACES[surface](entry))
        assert response.status_code in (200, 404), (surface, state)
        assert SECRET not in response.content.decode(), (surface, state)


def test_updates_at_every_version_leave_hidden_entries_out(client):
    entry = hidden_entries()["scheduled"]
    story = Story.objects.get(pk=entry.story_id)
    for since in range(story.version):
        payload = client.get(f"/stories/{story.slug}/updates/{since}/").json()
        assert SECRET not in str(payload)


def test_a_hidden_entry_is_the_same_404_as_a_missing_one(client):
    entry = hidden_entries()["draft"]
    hidden = client.get(f"/stories/live/entries/{entry.pk}/")
    missing = client.get("/stories/live/entries/999999/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content.replace(b"999999", str(entry.pk).encode())


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


# --- Revisions and corrections -----------------------------------------------------------


def admin_entry_post(entry, **overrides):
    local = timezone.localtime(entry.published_at, entry.story.tzinfo)
    data = {
        "story": entry.story_id,
        "status": entry.status,
        "published_at_0": local.strftime("%Y-%m-%d"),
        "published_at_1": local.strftime("%H:%M:%S"),
        "headline": entry.headline,
        "dateline": entry.dateline,
        "body": entry.body,
        "correction": entry.correction,
        "revision": Entry.objects.get(pk=entry.pk).revision,
    }
    data.update(overrides)
    return data


def test_every_save_keeps_a_revision_with_who_and_what(client, editor, story):
    entry = EntryFactory(story=story, headline="First headline")
    client.force_login(editor)
    client.post(change_url(entry), admin_entry_post(entry, headline="Second headline"))
    newest, oldest = entry.history.all()[0], entry.history.all()[1]
    assert newest.history_user == editor
    assert "headline" in newest.diff_against(oldest).changed_fields
    assert (oldest.revision, newest.revision) == (1, 2)


def test_an_editor_restores_an_earlier_revision(client, editor, story):
    entry = EntryFactory(story=story, headline="Original headline")
    first = entry.history.get()
    client.force_login(editor)
    client.post(change_url(entry), admin_entry_post(entry, headline="A mistaken edit"))
    url = reverse("admin:liveblog_entry_simple_history", args=[entry.pk, first.history_id])
    form = client.get(url).context["adminform"].form
    data = admin_entry_post(
        entry, headline=form.initial["headline"], revision=form["revision"].value()
    )
    response = client.post(url, data)
    assert response.status_code == 302
    assert Entry.objects.get(pk=entry.pk).headline == "Original headline"
    assert "Original headline" in client.get(story.get_absolute_url()).content.decode()


def test_a_reporter_cannot_restore_another_reporters_entry(client, reporter, other_reporter, story):
    entry = EntryFactory(story=story, headline="Theirs", authors=[other_reporter.person])
    entry.headline = "Theirs, edited"
    entry.save()
    first = entry.history.last()
    client.force_login(reporter)
    url = reverse("admin:liveblog_entry_simple_history", args=[entry.pk, first.history_id])
    assert client.post(url, admin_entry_post(entry, headline="Theirs")).status_code == 403
    assert Entry.objects.get(pk=entry.pk).headline == "Theirs, edited"


def test_readers_see_updated_time_and_correction(client, editor, story, clock):
    entry = EntryFactory(story=story, published_at=clock.now - timedelta(minutes=30))
    clock.advance(minutes=1)
    client.force_login(editor)
    client.post(
        change_url(entry),
        admin_entry_post(
            entry, body="Fixed paragraph.", correction="An earlier version misstated the count."
        ),
    )
    client.logout()
    content = client.get(story.get_absolute_url()).content.decode()
    stamp = timezone.localtime(clock.now, story.tzinfo)
    hour = stamp.hour % 12 or 12
    assert "Updated <time datetime=" in content
    assert f">{hour}:{stamp.minute:02d} {'a.m.' if stamp.hour < 12 else 'p.m.'}</time>" in content
    assert "<strong>Correction:</strong> An earlier version misstated the count." in content


def test_an_entry_edited_before_it_was_public_is_not_marked_updated(story, clock):
    entry = EntryFactory(story=story, status=Entry.Status.DRAFT)
    entry.body = "Rewritten before publishing."
    entry.save()
    assert "Updated" not in Entry.objects.get(pk=entry.pk).html


def test_a_reporter_cannot_set_a_correction(client, reporter, story):
    entry = EntryFactory(story=story, authors=[reporter.person])
    client.force_login(reporter)
    client.post(change_url(entry), admin_entry_post(entry, correction="Sneaky"))
    assert Entry.objects.get(pk=entry.pk).correction == ""


# --- No lost updates -----------------------------------------------------------------


def test_the_second_of_two_saves_is_refused_with_what_changed_and_keeps_the_typing(
    client, editor, reporter, story
):
    entry = EntryFactory(story=story, headline="Senators briefed", authors=[reporter.person])
    opened = admin_entry_post(entry)  # both open the form at the same revision
    client.force_login(reporter)
    assert (
        client.post(
            change_url(entry), {**opened, "headline": "Senators briefed on strike"}
        ).status_code
        == 302
    )

    client.force_login(editor)
    second = {**opened, "body": "The editor's careful rewrite."}
    response = client.post(change_url(entry), second)
    content = response.content.decode()
    assert response.status_code == 200
    assert "saved this entry" in content
    assert "Senators briefed on strike" in content  # what the other person changed
    assert "The editor&#x27;s careful rewrite." in content  # what this person typed
    assert Entry.objects.get(pk=entry.pk).body != "The editor's careful rewrite."

    again = {**second, "revision": response.context["adminform"].form["revision"].value()}
    assert client.post(change_url(entry), again).status_code == 302
    assert Entry.objects.get(pk=entry.pk).body == "The editor's careful rewrite."


def test_two_saves_at_the_same_moment_cannot_both_win(story):
    first = Entry.objects.get(pk=EntryFactory(story=story).pk)
    second = Entry.objects.get(pk=first.pk)
    first.expected_revision, second.expected_revision = first.revision, second.revision
    first.headline = "First"
    first.save()
    second.headline = "Second"
    with pytest.raises(EditConflict):
        second.save()
    assert Entry.objects.get(pk=first.pk).headline == "First"


def test_two_editors_saving_a_story_do_not_overwrite_each_other(client, editor, story):
    data = story_post(story, **{"key_points-TOTAL_FORMS": "0"})
    client.force_login(editor)
    assert (
        client.post(change_url(story), {**data, "lede": "Lede by the first editor."}).status_code
        == 302
    )
    response = client.post(change_url(story), {**data, "headline": "Headline by the second"})
    assert response.status_code == 200
    assert "Lede by the first editor." in response.content.decode()
    assert Story.objects.get(pk=story.pk).headline == story.headline


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
