"""The admin: posting and editing, roles, key points inline, times and malformed input.
Past 300 lines: one test per behaviour of the staff's main tool."""

from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from liveblog.dates import OUT_OF_RANGE
from liveblog.models import AuditEvent, Entry, KeyPoint, Story

from .admin_posts import admin_entry_post, change_url, story_post
from .factories import (
    STORED_OUT_OF_RANGE,
    EntryFactory,
    KeyPointFactory,
    PersonFactory,
    StoryFactory,
    UserFactory,
    store_out_of_range,
)

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
        # The admin posts the bylines it shows: left out, they would be removed.
        data["authors"] = [person.pk for person in entry.authors.all()]
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


def test_a_body_over_the_limit_is_refused_in_the_admin_and_kept(client, reporter, story):
    client.force_login(reporter)
    body = "x" * 2_000_000
    response = client.post(ADD_ENTRY, entry_post(story, body=body))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["body"] == ["Keep it under 20,000 characters (this has 2,000,000)."]
    assert body in response.content.decode()
    assert not Entry.objects.exists()


def test_save_and_add_another_keeps_the_story(client, reporter, story):
    client.force_login(reporter)
    data = entry_post(story, _addanother="1", authors=[reporter.person.pk])
    response = client.post(ADD_ENTRY, data)
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
    data = entry_post(story, published_at_0="2999-01-01", authors=[reporter.person.pk])
    response = client.post(ADD_ENTRY, data)
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


@pytest.mark.parametrize("bylines", ["none", "another"])
def test_a_reporter_cannot_post_in_the_admin_without_their_own_byline(
    client, reporter, editor, story, bylines
):
    client.force_login(reporter)
    authors = {"none": [], "another": [editor.person.pk]}[bylines]
    response = client.post(ADD_ENTRY, entry_post(story, authors=authors))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["authors"]
    assert errors == [
        "Your own byline goes on your entries: keep “Reporter” (others may be added)."
    ]
    assert not Entry.objects.exists()


def test_a_reporter_cannot_remove_their_byline_from_their_entry(client, reporter, editor, story):
    entry = EntryFactory(story=story, authors=[reporter.person], created_by=reporter)
    client.force_login(reporter)
    data = entry_post(story, entry, authors=[editor.person.pk])
    response = client.post(change_url(entry), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["authors"]
    assert list(Entry.objects.get(pk=entry.pk).authors.all()) == [reporter.person]


def test_an_editor_may_post_in_the_admin_under_another_byline_or_none(
    client, editor, reporter, story
):
    client.force_login(editor)
    for authors in ([reporter.person.pk], []):
        response = client.post(ADD_ENTRY, entry_post(story, authors=authors))
        assert response.status_code == 302
    assert Entry.objects.filter(authors=None).count() == 1
    assert Entry.objects.filter(authors=reporter.person).count() == 1


def test_a_time_that_happens_twice_is_a_choice_in_the_admin(client, reporter, story):
    client.force_login(reporter)
    data = entry_post(
        story, published_at_0="2025-11-02", published_at_1="01:30:00", authors=[reporter.person.pk]
    )
    response = client.post(ADD_ENTRY, data)
    assert response.status_code == 200
    content = response.content.decode()
    assert "1:30 a.m. EDT (first)" in content and "1:30 a.m. EST (second)" in content
    assert "ambiguous" not in content
    assert client.post(ADD_ENTRY, {**data, "published_at_fold": "0"}).status_code == 302
    assert Entry.objects.get().published_at == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)


@pytest.mark.parametrize("story_id", ["abc", "99999999999999999999999", "424242"])
def test_an_unknown_story_id_gets_one_message(client, reporter, story, story_id):
    client.force_login(reporter)
    data = entry_post(story)
    data["story"] = story_id
    response = client.post(ADD_ENTRY, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["story"]
    assert len(errors) == 1
    assert "required" not in errors[0]


# --- Times out of range ---------------------------------------------------------------


@pytest.mark.parametrize("field", ["coverage_start", "coverage_end"])
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-06-30", "3000-06-30"])
def test_a_coverage_time_out_of_range_is_refused_naming_the_range(client, editor, field, day):
    story = StoryFactory(status=Story.Status.DRAFT)
    client.force_login(editor)
    data = story_post(story, **{f"{field}_0": day, f"{field}_1": "23:59:59"})
    response = client.post(change_url(story), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [OUT_OF_RANGE]
    story.refresh_from_db()
    assert getattr(story, field) is None


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_an_entry_time_out_of_range_is_refused_naming_the_range(client, editor, story, day):
    client.force_login(editor)
    response = client.post(ADD_ENTRY, entry_post(story, published_at_0=day))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["published_at"] == [OUT_OF_RANGE]
    assert not Entry.objects.exists()


@pytest.mark.parametrize("when", STORED_OUT_OF_RANGE)
def test_a_story_whose_stored_time_is_out_of_range_opens_with_it_empty(client, editor, when):
    story = StoryFactory(time_zone="Asia/Tokyo")
    store_out_of_range(story, "coverage_start", when)
    client.force_login(editor)
    response = client.get(change_url(story))
    assert response.status_code == 200
    assert response.context["adminform"].form.initial["coverage_start"] is None
    assert "The time stored here is out of range" in response.content.decode()


@pytest.mark.parametrize("when", STORED_OUT_OF_RANGE)
def test_an_editor_fixes_a_story_time_stored_out_of_range(client, editor, when):
    story = StoryFactory()
    store_out_of_range(story, "coverage_start", when)
    client.force_login(editor)
    fix = {"coverage_start_0": "2020-01-06", "coverage_start_1": "16:00:00"}
    assert client.post(change_url(story), story_post(story, **fix)).status_code == 302
    story.refresh_from_db()
    assert story.coverage_start == datetime(2020, 1, 6, 21, 0, tzinfo=UTC)


@pytest.mark.parametrize("when", STORED_OUT_OF_RANGE)
def test_an_editor_fixes_an_entry_time_stored_out_of_range(client, editor, story, when):
    entry = EntryFactory(story=story)
    store_out_of_range(entry, "published_at", when)
    client.force_login(editor)
    entry.published_at = datetime(2020, 1, 6, 21, 0, tzinfo=UTC)
    assert client.post(change_url(entry), admin_entry_post(entry)).status_code == 302
    entry.refresh_from_db()
    assert entry.published_at == datetime(2020, 1, 6, 21, 0, tzinfo=UTC)


def test_the_entry_list_marks_a_time_stored_out_of_range(client, editor, story):
    store_out_of_range(EntryFactory(story=story), "published_at", "too early")
    client.force_login(editor)
    response = client.get(reverse("admin:liveblog_entry_changelist"))
    assert response.status_code == 200
    assert "out of range" in response.content.decode()
    # Its date drill-down would show that time in the admin's zone: it steps aside.
    assert response.context["cl"].date_hierarchy is None


# The date drill-down's parameters (for the entry list; the same for the editors' log).
BAD_DRILL_DOWNS = [
    {"published_at__year": "99999999999"},
    {"published_at__year": "-1"},
    {"published_at__year": "0"},
    {"published_at__year": "abc"},
    {"published_at__year": "²"},
    {"published_at__year": "9999"},
    {"published_at__year": "10000"},
    {"published_at__year": "2020", "published_at__month": "99999999999"},
    {"published_at__year": "2020", "published_at__month": "13"},
    {"published_at__year": "2020", "published_at__month": "-1"},
    {"published_at__year": "2999", "published_at__month": "12", "published_at__day": "32"},
    {"published_at__year": "2020", "published_at__month": "1", "published_at__day": "9" * 11},
    {"published_at__year": "2020", "published_at__month": "2", "published_at__day": "30"},
]


@pytest.mark.parametrize(("model", "field"), [(Entry, "published_at"), (AuditEvent, "created_at")])
@pytest.mark.parametrize("query", BAD_DRILL_DOWNS)
def test_a_date_drill_down_out_of_range_shows_the_list_unfiltered(
    client, editor, story, model, field, query
):
    EntryFactory(story=story)
    client.force_login(editor)
    url = reverse(f"admin:liveblog_{model._meta.model_name}_changelist")
    params = {name.replace("published_at", field): value for name, value in query.items()}
    response = client.get(url, params)
    assert response.status_code == 302
    assert response["Location"] == f"{url}?e=1"


def test_a_date_drill_down_out_of_range_says_which_range(client, editor):
    client.force_login(editor)
    url = reverse("admin:liveblog_entry_changelist")
    response = client.get(url, {"published_at__year": "99999999999"}, follow=True)
    assert response.status_code == 200
    assert OUT_OF_RANGE in response.content.decode()


def test_a_date_drill_down_in_range_filters_the_list(client, editor, story):
    EntryFactory(story=story, headline="In 2020", published_at=datetime(2020, 1, 6, tzinfo=UTC))
    EntryFactory(story=story, headline="In 2021", published_at=datetime(2021, 1, 6, tzinfo=UTC))
    client.force_login(editor)
    response = client.get(
        reverse("admin:liveblog_entry_changelist"), {"published_at__year": "2021"}
    )
    assert [entry.headline for entry in response.context["cl"].result_list] == ["In 2021"]


def test_every_admin_with_a_date_drill_down_refuses_a_year_out_of_range(client):
    client.force_login(UserFactory(username="superuser", is_superuser=True))
    drill_downs = []
    for model in apps.get_models():
        if admin.site.is_registered(model) and admin.site.get_model_admin(model).date_hierarchy:
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            field = admin.site.get_model_admin(model).date_hierarchy
            response = client.get(url, {f"{field}__year": "99999999999"})
            assert (response.status_code, response["Location"]) == (302, f"{url}?e=1")
            drill_downs.append(model._meta.label)
    assert "axes.AccessAttempt" in drill_downs


@pytest.mark.parametrize(
    ("model", "query"),
    [
        (Entry, {"created_at__year": "99999999999"}),
        (Entry, {"published_at__year__gt": "99999999999"}),
        (Entry, {"published_at__iso_year": "99999999999"}),
        (Story, {"coverage_start__year": "99999999999"}),
        (Story, {"coverage_end__year": "-5"}),
    ],
)
def test_a_date_lookup_python_cannot_make_shows_the_list_unfiltered(client, editor, model, query):
    client.force_login(editor)
    url = reverse(f"admin:liveblog_{model._meta.model_name}_changelist")
    response = client.get(url, query)
    assert (response.status_code, response["Location"]) == (302, f"{url}?e=1")


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


def test_a_drill_down_year_of_ten_thousand_digits_is_a_bad_lookup(client, editor):
    client.force_login(editor)
    response = client.get(
        reverse("admin:liveblog_entry_changelist"), {"published_at__year": "9" * 10_000}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")
