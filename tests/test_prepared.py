"""Prepared queries: SQL the ORM writes once, run with new values each time."""

from datetime import timedelta

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from liveblog.models import Entry, Story
from liveblog.prepared import Param, PreparedQuery
from liveblog.stream import FIRST_PAGE, StreamEntry
from liveblog.views import PUBLIC_STORY

from .factories import BASE_TIME, EntryFactory, KeyPointFactory, StoryFactory

pytestmark = pytest.mark.django_db

NOW = Param("now", models.DateTimeField())


def _headlines_until():
    return Entry.objects.public(NOW).newest_first().values_list("headline")


HEADLINES_UNTIL = PreparedQuery(_headlines_until)


def test_each_run_takes_its_own_values():
    story = StoryFactory()
    for minutes in (0, 10, 20):
        EntryFactory(
            story=story,
            headline=f"At {minutes}",
            published_at=BASE_TIME + timedelta(minutes=minutes),
        )

    def headlines(now):
        return [row[0] for row in HEADLINES_UNTIL.rows(now=now)]

    assert headlines(BASE_TIME + timedelta(minutes=15)) == ["At 10", "At 0"]
    # The same SQL, a later time: the time is sent, not written into the SQL.
    assert headlines(BASE_TIME + timedelta(minutes=25)) == ["At 20", "At 10", "At 0"]
    assert headlines(BASE_TIME - timedelta(minutes=1)) == []


def test_rows_are_read_as_the_orm_reads_them():
    story = StoryFactory()
    EntryFactory.create_batch(3, story=story)
    now = BASE_TIME + timedelta(days=1)
    orm = list(StreamEntry.rows(story.entries.all()).newest_first().public()[:3])
    prepared = FIRST_PAGE.rows(2, False, story=story.pk, now=now)
    assert [tuple(row) for row in prepared] == [tuple(row) for row in orm]
    assert prepared[0][1].tzinfo is not None  # an aware time, on SQLite too


def test_each_shape_has_sql_of_its_own():
    story = StoryFactory()
    first, second, third = EntryFactory.create_batch(3, story=story)
    now = BASE_TIME + timedelta(days=1)
    assert len(FIRST_PAGE.rows(1, False, story=story.pk, now=now)) == 2
    assert len(FIRST_PAGE.rows(5, False, story=story.pk, now=now)) == 3
    left_out = FIRST_PAGE.rows(5, True, story=story.pk, pinned=third.pk, now=now)
    assert [row[0] for row in left_out] == [second.pk, first.pk]


def test_instances_are_the_models_the_orm_reads():
    story = StoryFactory(slug="the-story")
    KeyPointFactory(story=story, text="What we know")
    story.refresh_page_summary()
    (prepared,) = PUBLIC_STORY.instances(slug="the-story")
    orm = Story.objects.get(pk=story.pk)
    for field in Story._meta.concrete_fields:
        assert getattr(prepared, field.attname) == getattr(orm, field.attname), field.name
    assert prepared.key_points_shown  # decoded JSON, as the ORM decodes it
    assert prepared._state.adding is False


def test_a_draft_story_is_not_found():
    StoryFactory(slug="draft", status=Story.Status.DRAFT)
    assert PUBLIC_STORY.instances(slug="draft") == []
    assert PUBLIC_STORY.instances(slug="no-such-story") == []


def test_a_prepared_query_is_one_query_that_the_query_log_sees():
    story = StoryFactory(slug="the-story")
    with CaptureQueriesContext(connection) as queries:
        PUBLIC_STORY.instances(slug=story.slug)
        PUBLIC_STORY.instances(slug=story.slug)
    assert len(queries) == 2
    assert queries[0]["sql"] == queries[1]["sql"]


@pytest.mark.parametrize("pinned", ["none", "public", "draft", "scheduled"])
def test_the_prepared_first_page_is_the_one_every_other_reading_builds(pinned, clock):
    """The first page a crowd reads (prepared) and the same page as the ORM builds it for
    the other readings (stream._page) agree: its pinned entry, its entries, what is
    next; drafts and scheduled entries in neither."""
    from liveblog.stream import Reading, _first_page, _page

    clock.now = BASE_TIME + timedelta(hours=1)
    story = StoryFactory()
    shown = [
        EntryFactory(story=story, published_at=BASE_TIME + timedelta(minutes=n)) for n in range(4)
    ]
    EntryFactory(story=story, status=Entry.Status.DRAFT, published_at=BASE_TIME)
    EntryFactory(story=story, published_at=BASE_TIME + timedelta(hours=2))  # scheduled
    if pinned != "none":
        kind = {
            "public": {},
            "draft": {"status": Entry.Status.DRAFT},
            "scheduled": {"published_at": BASE_TIME + timedelta(hours=3)},
        }[pinned]
        kind.setdefault("published_at", BASE_TIME + timedelta(minutes=30))
        story.pinned_entry = EntryFactory(story=story, **kind)
        story.save()

    def ids(result):
        pin, entries, more = result
        return (pin.pk if pin else None, [entry.pk for entry in entries], more)

    prepared = ids(_first_page(story, 2))
    assert prepared == ids(_page(story, Reading(), False, 2))
    pinned_pk, entries, more = prepared
    assert pinned_pk == (story.pinned_entry_id if pinned == "public" else None)
    assert entries == [shown[3].pk, shown[2].pk] and more is not None


def test_a_run_names_every_param_and_nothing_else():
    story = StoryFactory()
    now = BASE_TIME
    with pytest.raises(TypeError, match="takes"):
        FIRST_PAGE.rows(2, False, story=story.pk)
    with pytest.raises(TypeError, match="takes"):
        FIRST_PAGE.rows(2, False, story=story.pk, pinned=1, now=now)


def test_a_param_is_never_none():
    """SQL written once says ``id <> %s``: with NULL it would leave every entry out."""
    with pytest.raises(ValueError, match="never None"):
        FIRST_PAGE.rows(2, True, story=StoryFactory().pk, pinned=None, now=BASE_TIME)


def test_instances_read_only_whole_model_instances():
    joined = PreparedQuery(
        lambda: Entry.objects.select_related("story").filter(
            pk=Param("pk", models.BigIntegerField())
        )
    )
    with pytest.raises(TypeError, match="whole model instances"):
        joined.instances(pk=1)
