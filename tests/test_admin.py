from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from liveblog.models import Entry, KeyPoint, Story

from .admin_posts import change_url, story_post
from .factories import EntryFactory, KeyPointFactory, PersonFactory, StoryFactory

pytestmark = pytest.mark.django_db

ADD_ENTRY = reverse("admin:liveblog_entry_add")


def entry_post(story, entry=None, **overrides):
    local = timezone.localtime(timezone.now(), story.tzinfo)
    data = {
        "story": story.pk,
        "published_at_0": local.strftime("%Y-%m-%d"),
        "published_at_1": local.strftime("%H:%M:%S"),
        "status": "published",
        "headline": "Senators to be briefed",
        "dateline": "WASHINGTON",
        "body": "Officials will brief senators on Wednesday.",
    }
    if entry is not None:
        data["revision"] = Entry.objects.get(pk=entry.pk).revision
    data.update(overrides)
    return data


def test_add_entry_form_opens_with_story_time_and_own_byline(client, reporter, story):
    client.force_login(reporter)
    response = client.get(ADD_ENTRY, {"story": story.pk})
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert str(form.initial["story"]) == str(story.pk)
    assert form.initial["authors"] == [reporter.person.pk]
    assert abs(form.initial["published_at"] - timezone.now()).total_seconds() < 60


def test_reporter_posts_an_entry_that_readers_see(client, reporter, story):
    client.force_login(reporter)
    response = client.post(ADD_ENTRY, entry_post(story, authors=[reporter.person.pk]))
    assert response.status_code == 302
    entry = Entry.objects.get()
    assert entry.created_by == reporter
    assert list(entry.authors.all()) == [reporter.person]
    page = client.get(story.get_absolute_url()).content.decode()
    assert "Senators to be briefed" in page
    assert f'By <a href="/people/{reporter.person.slug}/">' in page


def test_save_and_add_another_keeps_the_story(client, reporter, story):
    client.force_login(reporter)
    response = client.post(ADD_ENTRY, entry_post(story, _addanother="1"))
    assert response.status_code == 302
    assert response["Location"] == f"{ADD_ENTRY}?story={story.pk}"


def test_entry_form_keeps_what_was_typed_when_it_is_refused(client, reporter, story):
    client.force_login(reporter)
    response = client.post(ADD_ENTRY, entry_post(story, headline=""))
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert "Officials will brief senators on Wednesday." in response.content.decode()
    assert not Entry.objects.exists()


def test_a_future_time_schedules_the_entry(client, reporter, story):
    client.force_login(reporter)
    response = client.post(ADD_ENTRY, entry_post(story, published_at_0="2999-01-01"))
    assert response.status_code == 302
    assert Entry.objects.get().is_scheduled
    assert not Entry.objects.public().exists()


def test_entry_form_reads_time_in_the_story_zone(client, editor):
    story = StoryFactory(time_zone="Asia/Baghdad")
    client.force_login(editor)
    client.post(
        ADD_ENTRY, entry_post(story, published_at_0="2020-01-06", published_at_1="20:00:00")
    )
    assert Entry.objects.get().published_at == datetime(2020, 1, 6, 17, 0, tzinfo=UTC)


def test_reporter_edits_own_entry(client, reporter, story):
    entry = EntryFactory(story=story, authors=[reporter.person])
    client.force_login(reporter)
    response = client.post(
        change_url(entry), entry_post(story, entry, headline="Corrected headline")
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.headline == "Corrected headline"


def test_reporter_cannot_change_another_reporters_entry_by_crafted_post(
    client, reporter, other_reporter, story
):
    entry = EntryFactory(story=story, authors=[other_reporter.person])
    client.force_login(reporter)
    response = client.post(change_url(entry), entry_post(story, headline="Hijacked"))
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.headline != "Hijacked"


def test_reporter_sees_another_reporters_entry_read_only(client, reporter, other_reporter, story):
    entry = EntryFactory(story=story, authors=[other_reporter.person])
    client.force_login(reporter)
    response = client.get(change_url(entry))
    assert response.status_code == 200
    assert 'name="headline"' not in response.content.decode()


def test_reporter_cannot_delete_another_reporters_entry(client, reporter, other_reporter, story):
    entry = EntryFactory(story=story, authors=[other_reporter.person])
    client.force_login(reporter)
    url = reverse("admin:liveblog_entry_delete", args=[entry.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    bulk = client.post(
        reverse("admin:liveblog_entry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    # Reporters have no bulk actions at all: the post just shows the list again.
    assert bulk.status_code == 200
    assert 'name="action"' not in bulk.content.decode()
    assert Entry.objects.filter(pk=entry.pk).exists()


def test_editor_changes_any_entry(client, editor, reporter, story):
    entry = EntryFactory(story=story, authors=[reporter.person])
    client.force_login(editor)
    response = client.post(
        change_url(entry), entry_post(story, entry, headline="Edited by the desk")
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.headline == "Edited by the desk"


def test_reporter_cannot_change_a_story_or_its_key_points(client, reporter, story):
    client.force_login(reporter)
    response = client.post(change_url(story), story_post(story, headline="Hijacked"))
    assert response.status_code == 403
    story.refresh_from_db()
    assert story.headline != "Hijacked"
    assert not KeyPoint.objects.exists()


def test_reporter_cannot_add_a_story(client, reporter):
    client.force_login(reporter)
    response = client.post(
        reverse("admin:liveblog_story_add"), {"headline": "Mine", "slug": "mine"}
    )
    assert response.status_code == 403
    assert not Story.objects.filter(slug="mine").exists()


def test_editor_pins_key_points_inline_on_the_story(client, editor, story):
    client.force_login(editor)
    response = client.post(change_url(story), story_post(story))
    assert response.status_code == 302
    assert list(KeyPoint.objects.public().values_list("text", flat=True)) == ["A new key point"]


def test_editor_unpins_a_key_point(client, editor, story):
    point = KeyPointFactory(story=story, text="Old point")
    client.force_login(editor)
    data = story_post(
        story,
        **{
            "key_points-INITIAL_FORMS": "1",
            "key_points-0-id": point.pk,
            "key_points-0-story": story.pk,
            "key_points-0-text": "Old point",
        },
    )
    del data["key_points-0-pinned"]
    assert client.post(change_url(story), data).status_code == 302
    assert not KeyPoint.objects.public().exists()


def test_story_change_page_links_to_adding_an_entry(client, editor, story):
    client.force_login(editor)
    content = client.get(change_url(story)).content.decode()
    assert f"{ADD_ENTRY}?story={story.pk}" in content


def test_entry_list_shows_time_in_the_story_zone(client, editor):
    EntryFactory(
        story=StoryFactory(time_zone="Asia/Baghdad"),
        published_at=datetime(2020, 1, 7, 5, 0, tzinfo=UTC),
    )
    client.force_login(editor)
    content = client.get(reverse("admin:liveblog_entry_changelist")).content.decode()
    assert "Tuesday, Jan. 7, 2020, 8:00 a.m." in content


def test_author_lookup_searches_people(client, reporter):
    PersonFactory(name="Mark Esper")
    for n in range(30):
        PersonFactory(name=f"Someone {n}")
    client.force_login(reporter)
    response = client.get(
        reverse("admin:autocomplete"),
        {"term": "esper", "app_label": "liveblog", "model_name": "entry", "field_name": "authors"},
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Mark Esper"]


@pytest.mark.parametrize(
    "url",
    [
        "/admin/autocomplete/?app_label=liveblog&model_name=entry&field_name=story&term=%00",
        "/admin/liveblog/entry/?status__exact=%00",
        "/admin/liveblog/entry/?q=senators%00",
    ],
)
def test_a_nul_in_a_lookup_or_filter_is_a_400(client, editor, url):
    # PostgreSQL refuses NUL in any string: it was a 500 once it reached a query.
    client.force_login(editor)
    response = client.get(url)
    assert response.status_code == 400
    assert "may not contain NUL" in response.content.decode()


@pytest.mark.parametrize(
    "query", ["?story=abc", "?story=99999999999999999999999", "?published_at=garbage&story=1"]
)
def test_entry_form_ignores_a_malformed_query_string(client, reporter, story, query):
    client.force_login(reporter)
    assert client.get(ADD_ENTRY + query).status_code == 200


@pytest.mark.parametrize("huge", ["99999999999999999999999", "9" * 10_000])
@pytest.mark.parametrize("field", ["story", "authors", "people"])
def test_entry_form_answers_a_huge_id_with_a_form_error(client, reporter, story, field, huge):
    client.force_login(reporter)
    data = entry_post(story)
    data[field] = huge
    response = client.post(ADD_ENTRY, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field]
    assert "Officials will brief senators on Wednesday." in response.content.decode()
    assert not Entry.objects.exists()


def test_a_reporter_posting_a_bad_story_for_their_entry_is_ignored(client, reporter, story):
    # The story is read-only to them: not in their form, so not an error in it either.
    entry = EntryFactory(story=story, authors=[reporter.person])
    client.force_login(reporter)
    response = client.post(change_url(entry), {**entry_post(story, entry), "story": "abc"})
    assert response.status_code == 302
    assert Entry.objects.get(pk=entry.pk).story == story


@pytest.mark.parametrize(
    "url",
    [
        "/admin/liveblog/entry/{entry}/change/?_to_field=",
        "/admin/liveblog/entry/{entry}/delete/?_to_field=",
        "/admin/auth/group/{group}/change/?_to_field=",  # Django's own admins too
    ],
)
def test_an_empty_to_field_is_a_400(client, editor, story, url):
    entry = EntryFactory(story=story)
    client.force_login(editor)
    url = url.format(entry=entry.pk, group=editor.groups.get().pk)
    assert client.get(url).status_code == 400


@pytest.mark.parametrize("selected", ["abc", "-99999999999999999999", "9" * 10_000])
def test_an_action_on_rows_that_cannot_be_in_the_list_is_a_400(client, editor, story, selected):
    entry = EntryFactory(story=story)
    client.force_login(editor)
    data = {"action": "unpublish_selected", "_selected_action": [entry.pk, selected], "index": 0}
    assert client.post(reverse("admin:liveblog_entry_changelist"), data).status_code == 400
    assert Entry.objects.get(pk=entry.pk).status == Entry.Status.PUBLISHED


def test_the_story_form_takes_no_values_from_the_query_string(client, editor):
    client.force_login(editor)
    response = client.get(reverse("admin:liveblog_story_add") + "?coverage_start=abc&headline=x")
    assert response.status_code == 200
    assert response.context["adminform"].form.initial == {}


def test_a_story_form_posting_thousands_of_key_points_is_refused_without_building_them(
    client, editor, story
):
    client.force_login(editor)
    data = story_post(story, **{"key_points-TOTAL_FORMS": "10000"})
    response = client.post(change_url(story), data)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert len(formset.forms) <= 100
    assert "Please submit at most 100 forms." in response.content.decode()
