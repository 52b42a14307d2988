from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from liveblog.models import Entry, KeyPoint, Story

from .factories import EntryFactory, KeyPointFactory, PersonFactory, StoryFactory

pytestmark = pytest.mark.django_db


def test_story_going_live_starts_coverage():
    story = StoryFactory(status=Story.Status.DRAFT)
    assert story.coverage_start is None
    story.status = Story.Status.LIVE
    story.save()
    assert story.coverage_start is not None
    assert story.coverage_end is None


def test_story_ending_sets_coverage_end():
    story = StoryFactory(status=Story.Status.LIVE)
    story.status = Story.Status.ENDED
    story.save()
    assert story.coverage_end is not None
    assert story.coverage_end >= story.coverage_start


def test_story_rejects_unknown_time_zone():
    story = StoryFactory.build(time_zone="Mars/Olympus_Mons")
    with pytest.raises(ValidationError) as error:
        story.full_clean()
    assert "time_zone" in error.value.message_dict


def test_public_stories_exclude_drafts():
    live = StoryFactory(status=Story.Status.LIVE)
    ended = StoryFactory(status=Story.Status.ENDED)
    StoryFactory(status=Story.Status.DRAFT)
    assert set(Story.objects.public()) == {live, ended}


def test_front_page_lists_live_stories_before_ended_ones():
    ended = StoryFactory(status=Story.Status.ENDED)
    live = StoryFactory(status=Story.Status.LIVE)
    ended.save()  # the most recently updated, yet still after the live story
    assert list(Story.objects.for_front_page()) == [live, ended]


def test_entry_stores_its_rendered_html_on_save():
    entry = EntryFactory(headline="Pentagon briefing <b>ends</b>", dateline="WASHINGTON")
    entry.refresh_from_db()
    assert f'<article class="entry" id="entry-{entry.pk}"' in entry.html
    assert "Pentagon briefing &lt;b&gt;ends&lt;/b&gt;" in entry.html
    assert '<span class="dateline">WASHINGTON —</span> First paragraph.' in entry.html


def test_entry_html_follows_byline_changes():
    entry = EntryFactory()
    entry.authors.add(PersonFactory(name="Dana Reyes"))
    entry.refresh_from_db()
    assert "Dana Reyes" in entry.html


def test_entry_html_follows_a_renamed_author():
    author = PersonFactory(name="Dana Reyes")
    entry = EntryFactory(authors=[author])
    author.name = "Dana Reyes-Whitman"
    author.save()
    entry.refresh_from_db()
    assert "Dana Reyes-Whitman" in entry.html


def test_entry_html_follows_authors_added_from_the_person_side():
    author = PersonFactory(name="Dana Reyes")
    entry = EntryFactory()
    author.entries_written.add(entry)
    entry.refresh_from_db()
    assert "Dana Reyes" in entry.html
    author.entries_written.clear()
    entry.refresh_from_db()
    assert "Dana Reyes" not in entry.html


def test_entry_html_follows_the_story_time_zone():
    entry = EntryFactory(published_at=datetime(2020, 1, 7, 5, 0, tzinfo=UTC))
    assert "12:00 a.m." in Entry.objects.get(pk=entry.pk).html
    story = entry.story
    story.time_zone = "Europe/London"
    story.save()
    assert "5:00 a.m." in Entry.objects.get(pk=entry.pk).html


def test_entry_with_a_future_time_is_scheduled_and_not_public():
    entry = EntryFactory(published_at=timezone.now() + timedelta(hours=1))
    assert entry.is_scheduled
    assert entry.state_label == "Scheduled"
    assert not Entry.objects.public().exists()


def test_entry_accepts_an_earlier_time():
    earlier = timezone.now() - timedelta(hours=3)
    entry = EntryFactory.build(story=StoryFactory(), published_at=earlier)
    entry.full_clean()
    entry.save()
    assert list(Entry.objects.public()) == [entry]
    assert not entry.is_scheduled


def test_public_entries_exclude_draft_stories():
    public = EntryFactory(story=StoryFactory(status=Story.Status.LIVE))
    EntryFactory(story=StoryFactory(status=Story.Status.DRAFT))
    assert list(Entry.objects.public()) == [public]


def test_keypoints_public_only_pinned_in_position_order():
    story = StoryFactory()
    second = KeyPointFactory(story=story, position=2)
    first = KeyPointFactory(story=story, position=1)
    KeyPointFactory(story=story, position=0, pinned=False)
    assert list(KeyPoint.objects.public().filter(story=story)) == [first, second]


def test_keypoint_must_link_an_entry_of_its_own_story():
    point = KeyPointFactory.build(story=StoryFactory(), entry=EntryFactory())
    with pytest.raises(ValidationError) as error:
        point.full_clean()
    assert "entry" in error.value.message_dict


def test_get_absolute_urls():
    entry = EntryFactory(story=StoryFactory(slug="iran"))
    assert entry.story.get_absolute_url() == "/stories/iran/"
    assert entry.get_absolute_url() == f"/stories/iran/entries/{entry.pk}/"
    assert entry.permalink == f"/stories/iran/entries/{entry.pk}/#entry-{entry.pk}"
    assert PersonFactory(slug="mark-esper").get_absolute_url() == "/people/mark-esper/"


def test_a_public_story_keeps_its_address():
    story = StoryFactory(status=Story.Status.LIVE, slug="iran")
    story.slug = "iran-renamed"
    with pytest.raises(ValidationError) as error:
        story.full_clean()
    assert "slug" in error.value.message_dict


def test_a_draft_story_may_change_its_address():
    story = StoryFactory(status=Story.Status.DRAFT, slug="iran")
    story.slug = "iran-renamed"
    story.full_clean()
    story.save()
    assert Story.objects.get(pk=story.pk).get_absolute_url() == "/stories/iran-renamed/"


def test_entry_day_is_the_story_day_not_the_server_day():
    story = StoryFactory(time_zone="Asia/Tokyo")
    entry = EntryFactory(story=story, published_at=datetime(2020, 1, 6, 20, 0, tzinfo=UTC))
    html = Entry.objects.get(pk=entry.pk).html
    assert 'data-day="2020-01-07"' in html
    assert 'data-day-label="Tuesday, Jan. 7, 2020"' in html


def test_an_entry_body_over_the_limit_is_refused_saying_the_limit_and_its_length():
    entry = EntryFactory.build(body="x" * 2_000_000)
    with pytest.raises(ValidationError) as error:
        entry.full_clean()
    assert error.value.message_dict["body"] == [
        "Keep it under 20,000 characters (this has 2,000,000)."
    ]


def test_an_entry_body_at_the_limit_is_accepted():
    story = StoryFactory()
    EntryFactory.build(story=story, body="x" * 20_000).full_clean()


def test_the_body_limit_is_read_from_settings_when_checked(settings):
    settings.LIVEBLOG_MAX_BODY_CHARS = 100
    entry = EntryFactory.build(body="x" * 101)
    with pytest.raises(ValidationError, match="Keep it under 100 characters"):
        entry.full_clean()


@pytest.mark.parametrize(
    ("factory", "field", "limit"),
    [
        (StoryFactory, "lede", 5_000),
        (EntryFactory, "correction", 2_000),
        (PersonFactory, "bio", 2_000),
        (KeyPointFactory, "text", 1_000),
    ],
)
def test_free_text_over_its_limit_is_refused_saying_the_limit(factory, field, limit):
    instance = factory.build(**{field: "x" * (limit + 1)})
    with pytest.raises(ValidationError) as error:
        instance.full_clean()
    assert error.value.message_dict[field] == [
        f"Keep it under {limit:,} characters (this has {limit + 1:,})."
    ]


def test_a_story_whose_zone_is_no_zone_shows_times_in_the_newsrooms(settings):
    story = StoryFactory.build(time_zone="No/Such_Zone")
    assert str(story.tzinfo) == settings.TIME_ZONE
