"""Revisions, corrections and no lost updates: the admin keeps every save, and a save made
after someone else's is refused with what they changed."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from liveblog.models import EditConflict, Entry, Story

from .admin_posts import admin_entry_post, change_url, story_post
from .factories import EntryFactory, PersonFactory

pytestmark = pytest.mark.django_db

SECRET = "Embargoed: the minister resigns"


# --- Revisions and corrections -----------------------------------------------------------


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


def test_a_persons_history_shows_who_changed_them(client, editor):
    person = PersonFactory(name="Mark Esper")
    client.force_login(editor)
    client.post(
        change_url(person),
        {"name": "Mark T. Esper", "slug": person.slug, "title": person.title, "bio": ""},
    )
    response = client.get(reverse("admin:liveblog_person_history", args=[person.pk]))
    assert response.status_code == 200
    assert [p.name for p in person.history.all()] == ["Mark T. Esper", "Mark Esper"]


@pytest.mark.parametrize(
    "url",
    [
        "/admin/liveblog/entry/abc/history/",
        "/admin/liveblog/story/abc/history/",
        "/admin/liveblog/entry/{entry}/history/xyz/",
        "/admin/liveblog/person/abc/history/",
        "/admin/liveblog/person/abc/history/{history}/",
    ],
)
def test_a_malformed_id_in_a_history_url_is_404(client, editor, story, url):
    entry = EntryFactory(story=story)
    client.force_login(editor)
    url = url.format(entry=entry.pk, history=entry.history.get().history_id)
    assert client.get(url).status_code == 404


def test_readers_see_updated_time_and_correction(client, editor, story, clock):
    # Midday in the story's zone: an edit the day after its entry (at 12:10 a.m.) says
    # the date too, which this test does not look for.
    clock.now = timezone.localtime(clock.now, story.tzinfo).replace(hour=12)
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
