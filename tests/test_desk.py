"""The live desk: posting, previews, drafts, key points and who may use it.

Past 300 lines: one test per behaviour of the page reporters work in, kept together."""

import io
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from liveblog import renditions
from liveblog.dates import OUT_OF_RANGE
from liveblog.models import AuditEvent, Entry, KeyPoint, Story

from .factories import EntryFactory, KeyPointFactory, StoryFactory, UserFactory

pytestmark = pytest.mark.django_db


def desk_url(story):
    return reverse("liveblog:desk", args=[story.slug])


def compose(user, **fields):
    data = {
        "headline": "Senators to be briefed",
        "dateline": "WASHINGTON",
        "body": "Officials will brief senators on **Wednesday**.",
        "authors": [user.person.pk],
        "submission_id": str(uuid.uuid4()),
        "action": "publish",
    }
    data.update(fields)
    return data


@pytest.mark.parametrize("persona", ["reporter", "editor"])
@pytest.mark.parametrize("status", [Story.Status.LIVE, Story.Status.DRAFT])
def test_staff_open_the_desk_of_live_and_draft_stories(client, request, persona, status):
    user = request.getfixturevalue(persona)
    story = StoryFactory(status=status)
    client.force_login(user)
    response = client.get(desk_url(story))
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    form = response.context["form"]
    assert form.initial["authors"] == [user.person.pk]


@pytest.mark.parametrize("persona", ["reporter", "editor"])
def test_the_desk_of_an_ended_story_says_it_has_ended(client, request, persona):
    user = request.getfixturevalue(persona)
    story = StoryFactory(status=Story.Status.ENDED)
    client.force_login(user)
    response = client.get(desk_url(story))
    assert response.status_code == 200
    content = response.content.decode()
    assert "This story has ended" in content
    assert ('value="reopen"' in content) == (persona == "editor")


def test_a_post_to_an_ended_story_is_refused_saying_why_and_keeping_the_text(
    client, reporter, story
):
    client.force_login(reporter)
    story.status = Story.Status.ENDED
    story.save()
    response = client.post(desk_url(story), compose(reporter, body="Words not to lose."))
    assert response.status_code == 409
    content = response.content.decode()
    assert "This story has ended" in content
    assert "Words not to lose." in content
    assert not Entry.objects.exists()


def test_an_editor_reopens_an_ended_story_from_its_desk(client, editor, story):
    story.status = Story.Status.ENDED
    story.save()
    client.force_login(editor)
    response = client.post(desk_url(story), {"action": "reopen"})
    assert response.status_code == 302
    story.refresh_from_db()
    assert story.status == Story.Status.LIVE
    assert story.coverage_end is None
    event = AuditEvent.objects.get(action=AuditEvent.Action.STORY_STATUS)
    assert (event.user, event.detail) == (editor, "Ended → Live")


def test_a_reporter_cannot_reopen_a_story(client, reporter, story):
    story.status = Story.Status.ENDED
    story.save()
    client.force_login(reporter)
    assert client.post(desk_url(story), {"action": "reopen"}).status_code == 403
    story.refresh_from_db()
    assert story.status == Story.Status.ENDED


def test_a_missing_story_has_no_desk(client, reporter):
    client.force_login(reporter)
    assert client.get("/desk/no-such-story/").status_code == 404


def test_readers_cannot_open_the_desk(client, story):
    assert client.get(desk_url(story)).status_code == 302  # to the login page
    client.force_login(UserFactory(username="reader", is_staff=False))
    assert client.get(desk_url(story)).status_code == 403


def test_publishing_from_the_desk_reaches_readers(client, reporter, story):
    client.force_login(reporter)
    response = client.post(desk_url(story), compose(reporter))
    assert response.status_code == 302
    assert response["Location"] == desk_url(story)  # a fresh form for the next entry
    entry = Entry.objects.get()
    assert entry.created_by == reporter
    assert list(entry.authors.all()) == [reporter.person]
    assert AuditEvent.objects.get().action == AuditEvent.Action.PUBLISHED
    client.logout()
    page = client.get(story.get_absolute_url()).content.decode()
    dateline = '<span class="dateline">WASHINGTON —</span>'
    assert f"{dateline} Officials will brief senators on <strong>Wednesday</strong>." in page


def test_the_log_line_of_an_entry_with_the_longest_headline_fits(client, reporter, story):
    client.force_login(reporter)
    headline = ("Senators to be briefed " * 14)[:300]  # as long as a headline may be
    tomorrow = (timezone.localtime(timezone.now(), story.tzinfo) + timedelta(days=1)).strftime(
        "%Y-%m-%dT%H:%M"
    )
    client.post(desk_url(story), compose(reporter, headline=headline, published_at=tomorrow))
    event = AuditEvent.objects.get(action=AuditEvent.Action.SCHEDULED)
    assert len(event.detail) <= AuditEvent._meta.get_field("detail").max_length
    assert event.detail.startswith("“Senators to be briefed")


def test_saving_a_draft_keeps_it_from_readers(client, reporter, story):
    client.force_login(reporter)
    client.post(desk_url(story), compose(reporter, action="draft"))
    assert Entry.objects.get().status == Entry.Status.DRAFT
    assert not Entry.objects.public().exists()


def test_a_time_typed_at_the_desk_is_the_story_zone(client, reporter):
    story = StoryFactory(time_zone="Asia/Baghdad")
    client.force_login(reporter)
    client.post(desk_url(story), compose(reporter, published_at="2020-01-06T20:00"))
    assert Entry.objects.get().published_at.isoformat() == "2020-01-06T17:00:00+00:00"


def test_a_refused_post_keeps_everything_typed(client, reporter, story):
    client.force_login(reporter)
    response = client.post(
        desk_url(story), compose(reporter, headline="", body="A long paragraph kept.")
    )
    content = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in content
    assert "A long paragraph kept." in content
    assert 'value="WASHINGTON"' in content
    assert not Entry.objects.exists()


def test_a_body_over_the_limit_is_refused_and_kept(client, reporter, story):
    client.force_login(reporter)
    body = "x" * 2_000_000
    response = client.post(desk_url(story), compose(reporter, body=body))
    content = response.content.decode()
    assert response.status_code == 400
    assert "Keep it under 20,000 characters (this has 2,000,000)." in content
    assert body in content


def test_an_unknown_action_is_refused_keeping_everything_typed(client, reporter, story):
    client.force_login(reporter)
    response = client.post(desk_url(story), compose(reporter, action="bogus", body="Kept."))
    content = response.content.decode()
    assert response.status_code == 400
    assert "This form can publish, save a draft or preview: nothing was posted." in content
    assert "Kept." in content
    assert not Entry.objects.exists()


def test_posting_the_same_form_twice_posts_once(client, reporter, story):
    client.force_login(reporter)
    data = compose(reporter)
    client.post(desk_url(story), data)
    again = client.post(desk_url(story), data, follow=True)
    assert Entry.objects.count() == 1
    assert "was not posted twice" in again.content.decode()


def test_the_preview_is_the_public_rendering(client, reporter, story):
    client.force_login(reporter)
    data = compose(reporter, published_at="2020-01-06T21:30")
    preview = client.post(
        reverse("liveblog:desk_preview", args=[story.slug]), data
    ).content.decode()
    client.post(desk_url(story), data)
    entry = Entry.objects.get()
    stored = entry.html.replace(f"entry-{entry.pk}", "entry-0").replace(
        f"entries/{entry.pk}/", "entries/0/"
    )
    stored = stored.replace(f'.{entry.pk}"', '.0"')
    assert preview == stored


def test_the_preview_works_while_the_form_is_incomplete(client, reporter, story):
    client.force_login(reporter)
    response = client.post(
        reverse("liveblog:desk_preview", args=[story.slug]), {"body": "Half a *thought*"}
    )
    assert response.status_code == 200
    assert "Half a <em>thought</em>" in response.content.decode()


def test_datelines_are_suggested_from_the_story(client, reporter, story):
    EntryFactory(story=story, dateline="BAGHDAD")
    EntryFactory(story=story, dateline="TORONTO")
    client.force_login(reporter)
    content = client.get(desk_url(story)).content.decode()
    options = re.findall(r'<option value="([A-Z]+)">', content)
    assert options == ["TORONTO", "BAGHDAD"]


def test_recent_entries_link_to_the_admin_only_where_the_user_may_edit(
    client, reporter, other_reporter, story
):
    mine = EntryFactory(story=story, authors=[reporter.person])
    theirs = EntryFactory(story=story, authors=[other_reporter.person])
    client.force_login(reporter)
    content = client.get(desk_url(story)).content.decode()
    assert reverse("admin:liveblog_entry_change", args=[mine.pk]) in content
    assert reverse("admin:liveblog_entry_change", args=[theirs.pk]) not in content
    assert "Pin as key point" not in content.split("<template")[0]


def test_an_editor_pins_an_entry_headline_as_a_key_point(client, editor, story):
    KeyPointFactory(story=story, position=1)
    entry = EntryFactory(story=story, headline="Pentagon readies the Bataan group")
    client.force_login(editor)
    response = client.post(reverse("liveblog:desk_pin", args=[story.slug, entry.pk]))
    assert response.status_code == 302
    point = KeyPoint.objects.get(text="Pentagon readies the Bataan group")
    assert point.entry == entry and point.pinned and point.position == 2


@pytest.mark.parametrize(
    "state",
    [{"status": Entry.Status.DRAFT}, {"published_at": timezone.now() + timedelta(hours=1)}],
    ids=["draft", "scheduled"],
)
def test_an_entry_readers_cannot_see_yet_does_not_become_a_key_point(client, editor, story, state):
    entry = EntryFactory(story=story, headline="Embargoed", **state)
    client.force_login(editor)
    response = client.post(reverse("liveblog:desk_pin", args=[story.slug, entry.pk]), follow=True)
    assert not KeyPoint.objects.exists()
    assert "Publish “Embargoed” first" in response.content.decode()


def test_a_reporter_cannot_pin_or_reorder_key_points(client, reporter, story):
    point = KeyPointFactory(story=story)
    entry = EntryFactory(story=story)
    client.force_login(reporter)
    assert client.post(reverse("liveblog:desk_pin", args=[story.slug, entry.pk])).status_code == 403
    url = reverse("liveblog:desk_key_point", args=[story.slug, point.pk])
    assert client.post(url, {"action": "unpin"}).status_code == 403
    assert KeyPoint.objects.get(pk=point.pk).pinned


def test_an_editor_reorders_and_unpins_key_points_without_javascript(client, editor, story):
    first = KeyPointFactory(story=story, position=1, text="First")
    second = KeyPointFactory(story=story, position=2, text="Second")
    client.force_login(editor)
    url = reverse("liveblog:desk_key_point", args=[story.slug, second.pk])
    assert client.post(url, {"action": "up"}).status_code == 302
    assert list(KeyPoint.objects.public().values_list("text", flat=True)) == ["Second", "First"]
    client.post(
        reverse("liveblog:desk_key_point", args=[story.slug, first.pk]), {"action": "unpin"}
    )
    assert list(KeyPoint.objects.public().values_list("text", flat=True)) == ["Second"]
    assert client.post(url, {"action": "sideways"}).status_code == 400


def test_a_photo_posted_from_the_desk_is_cleaned_and_shown(
    client, reporter, story, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    Image.new("RGB", (1200, 800), (10, 120, 200)).save(buffer, format="JPEG", exif=exif)
    photo = SimpleUploadedFile("scene.jpg", buffer.getvalue(), content_type="image/jpeg")
    client.force_login(reporter)
    response = client.post(
        desk_url(story),
        compose(reporter, photo=photo, photo_alt="The scene", photo_credit="Jordan Pike"),
    )
    assert response.status_code == 302
    renditions.make_due()  # as the app's worker does after the answer
    entry = Entry.objects.get()
    assert dict(Image.open(entry.photo.path).getexif()) == {}
    assert '<source type="image/webp"' in entry.html
    assert 'alt="The scene"' in entry.html


def test_a_photo_without_alt_text_is_refused_and_the_text_kept(
    client, reporter, story, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (50, 50)).save(buffer, format="PNG")
    photo = SimpleUploadedFile("scene.png", buffer.getvalue(), content_type="image/png")
    client.force_login(reporter)
    response = client.post(desk_url(story), compose(reporter, photo=photo, body="Kept text."))
    assert response.status_code == 400
    assert "Describe the photo" in response.content.decode()
    assert "Kept text." in response.content.decode()


@pytest.mark.parametrize("field", ["authors"])
def test_a_huge_id_is_a_form_error_not_a_500(client, reporter, story, field):
    client.force_login(reporter)
    data = compose(reporter, **{field: [str(2**64)]})
    assert client.post(desk_url(story), data).status_code == 400
    assert client.post(reverse("liveblog:desk_preview", args=[story.slug]), data).status_code == 200


@pytest.mark.parametrize(
    ("zone", "when"),
    [("Asia/Tokyo", "0001-01-01T00:00"), ("America/Los_Angeles", "9999-12-31T23:59")],
)
def test_a_time_out_of_range_is_a_form_error_naming_the_range(client, reporter, zone, when):
    story = StoryFactory(time_zone=zone)
    client.force_login(reporter)
    response = client.post(desk_url(story), compose(reporter, published_at=when))
    assert response.status_code == 400
    assert response.context["form"].errors["published_at"] == [OUT_OF_RANGE]
    assert not Entry.objects.exists()


@pytest.mark.parametrize("fmt", ["JPEG", "GIF"])
def test_a_truncated_photo_is_refused_not_a_500(client, reporter, story, settings, tmp_path, fmt):
    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.effect_noise((400, 300), 60).convert("RGB").save(buffer, format=fmt)
    cut = buffer.getvalue()[: len(buffer.getvalue()) // 2]
    name = "cut.jpg" if fmt == "JPEG" else "cut.gif"
    photo = SimpleUploadedFile(name, cut, content_type=f"image/{fmt.lower()}")
    client.force_login(reporter)
    response = client.post(desk_url(story), compose(reporter, photo=photo, photo_alt="x"))
    assert response.status_code == 400
    assert not Entry.objects.exists()


def test_pinning_the_same_entry_twice_makes_one_key_point(client, editor, story):
    entry = EntryFactory(story=story, headline="Only once")
    client.force_login(editor)
    url = reverse("liveblog:desk_pin", args=[story.slug, entry.pk])
    client.post(url)
    followed = client.post(url, follow=True)
    assert KeyPoint.objects.filter(entry=entry).count() == 1
    assert "Already a key point" in followed.content.decode()
    assert "Pin as key point</button>" not in followed.content.decode().split("<template")[0]


def key_point_log():
    return list(AuditEvent.objects.order_by("id").values_list("action", "user__username", "detail"))


def test_pinning_an_entry_as_a_key_point_is_logged_with_who(client, editor, story):
    entry = EntryFactory(story=story, headline="Pentagon readies the Bataan group")
    client.force_login(editor)
    client.post(reverse("liveblog:desk_pin", args=[story.slug, entry.pk]))
    client.post(reverse("liveblog:desk_pin", args=[story.slug, entry.pk]))  # already one
    assert key_point_log() == [("key_point_added", "editor", "“Pentagon readies the Bataan group”")]
    assert AuditEvent.objects.get().entry == entry


def test_moving_pinning_and_unpinning_key_points_are_logged_with_who(client, editor, story):
    KeyPointFactory(story=story, position=1, text="First")
    second = KeyPointFactory(story=story, position=2, text="Second")
    client.force_login(editor)
    url = reverse("liveblog:desk_key_point", args=[story.slug, second.pk])
    for action in ("up", "down", "unpin", "pin"):
        client.post(url, {"action": action})
    assert key_point_log() == [
        ("key_point_moved", "editor", "“Second” up"),
        ("key_point_moved", "editor", "“Second” down"),
        ("key_point_unpinned", "editor", "“Second”"),
        ("key_point_pinned", "editor", "“Second”"),
    ]


def test_a_key_point_that_cannot_move_further_stays_and_logs_nothing(client, editor, story):
    first = KeyPointFactory(story=story, position=1, text="First")
    KeyPointFactory(story=story, position=2, text="Second")
    client.force_login(editor)
    client.post(reverse("liveblog:desk_key_point", args=[story.slug, first.pk]), {"action": "up"})
    assert list(KeyPoint.objects.public().values_list("text", flat=True)) == ["First", "Second"]
    assert key_point_log() == []


def test_the_preview_renders_no_more_of_the_body_than_an_entry_may_hold(
    client, reporter, story, settings
):
    settings.LIVEBLOG_MAX_BODY_CHARS = 100
    client.force_login(reporter)
    url = reverse("liveblog:desk_preview", args=[story.slug])
    response = client.post(url, {"headline": "Long", "body": "a" * 99 + "b" * 5000})
    assert response.status_code == 200
    assert "a" * 99 + "b" in response.content.decode()
    assert "bb" not in response.content.decode()


# --- Bylines ----------------------------------------------------------------------------


@pytest.mark.parametrize("bylines", ["none", "another"])
def test_a_reporter_cannot_post_without_their_own_byline(client, reporter, editor, story, bylines):
    client.force_login(reporter)
    authors = {"none": [], "another": [editor.person.pk]}[bylines]
    response = client.post(desk_url(story), compose(reporter, authors=authors))
    assert response.status_code == 400
    assert "Your own byline goes on your entries: keep “Reporter”" in response.content.decode()
    assert "Senators to be briefed" in response.content.decode()  # kept
    assert not Entry.objects.exists()


def test_a_reporter_may_add_a_colleague_beside_their_own_byline(client, reporter, editor, story):
    client.force_login(reporter)
    authors = [reporter.person.pk, editor.person.pk]
    assert client.post(desk_url(story), compose(reporter, authors=authors)).status_code == 302
    assert set(Entry.objects.get().authors.all()) == {reporter.person, editor.person}


@pytest.mark.parametrize("bylines", ["none", "another"])
def test_an_editor_may_post_under_another_byline_or_none(client, editor, reporter, story, bylines):
    client.force_login(editor)
    authors = {"none": [], "another": [reporter.person.pk]}[bylines]
    assert client.post(desk_url(story), compose(editor, authors=authors)).status_code == 302
    assert [p.pk for p in Entry.objects.get().authors.all()] == authors


def test_a_reporter_without_a_byline_is_told_to_get_one(client, story):
    from django.contrib.auth.models import Group

    from liveblog.roles import REPORTERS

    user = UserFactory(username="newcomer")
    user.groups.add(Group.objects.get(name=REPORTERS))
    client.force_login(user)
    data = {"headline": "First post", "body": "Hello.", "submission_id": str(uuid.uuid4())}
    response = client.post(desk_url(story), data)
    assert response.status_code == 400
    assert "no byline yet" in response.content.decode()


# --- The nights the clocks change -----------------------------------------------------


def test_a_time_that_happens_twice_offers_both_in_words_then_takes_the_choice(
    client, reporter, story
):
    client.force_login(reporter)
    data = compose(reporter, published_at="2025-11-02T01:30")
    response = client.post(desk_url(story), data)
    assert response.status_code == 400
    content = response.content.decode()
    assert "1:30 a.m. EDT (first)" in content and "1:30 a.m. EST (second)" in content
    assert "ambiguous" not in content
    assert re.search(r'type="radio"[^>]*name="published_at_fold" value="1"', content)
    assert client.post(desk_url(story), {**data, "published_at_fold": "1"}).status_code == 302
    assert Entry.objects.get().published_at == datetime(2025, 11, 2, 6, 30, tzinfo=UTC)


def test_a_time_the_clocks_skip_is_refused_in_words(client, reporter, story):
    client.force_login(reporter)
    response = client.post(desk_url(story), compose(reporter, published_at="2025-03-09T02:30"))
    assert response.status_code == 400
    assert "There is no 2:30 a.m. on Sunday, March 9, 2025" in response.content.decode()
    assert not Entry.objects.exists()


@pytest.mark.parametrize("typed", ["9999-12-31T23:30", "0001-01-01T01:00"])
def test_a_time_at_the_ends_of_the_calendar_is_refused_not_a_500(client, reporter, typed):
    story = StoryFactory(time_zone="Asia/Baghdad")
    client.force_login(reporter)
    response = client.post(desk_url(story), compose(reporter, published_at=typed))
    assert response.status_code == 400
    assert OUT_OF_RANGE in response.content.decode()
