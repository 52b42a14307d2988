from datetime import UTC, datetime, timedelta

import factory
from django.contrib.auth import get_user_model
from django.db import connection

from liveblog.models import Entry, KeyPoint, Person, Story

BASE_TIME = datetime(2020, 1, 6, 21, 0, tzinfo=UTC)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True
    password = factory.django.Password("correct horse battery staple")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"Person {n}")
    slug = factory.Sequence(lambda n: f"person-{n}")
    title = "Pentagon reporter"


class StoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Story

    headline = factory.Sequence(lambda n: f"Story {n}")
    slug = factory.Sequence(lambda n: f"story-{n}")
    lede = "First paragraph of the lede.\n\nSecond paragraph."
    status = Story.Status.LIVE
    time_zone = "America/New_York"


class EntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Entry
        skip_postgeneration_save = True

    story = factory.SubFactory(StoryFactory)
    headline = factory.Sequence(lambda n: f"Update {n}")
    dateline = "WASHINGTON"
    body = "First paragraph.\n\nSecond paragraph."
    published_at = factory.Sequence(lambda n: BASE_TIME + timedelta(minutes=n))

    @factory.post_generation
    def authors(self, create, extracted, **kwargs):
        if create and extracted:
            self.authors.set(extracted)


class KeyPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KeyPoint

    story = factory.SubFactory(StoryFactory)
    text = factory.Sequence(lambda n: f"Key point {n}")
    position = factory.Sequence(lambda n: n)
    pinned = True


def grow_story(story, count):
    """Add ``count`` entries (one author) and as many key points, to check that a view's
    queries do not grow with the story."""
    author = PersonFactory()
    for _ in range(count):
        EntryFactory(story=story, authors=[author])
        KeyPointFactory(story=story)


# What older data or a fix made in SQL can leave in a time's column, past every form's
# check: on PostgreSQL, years Python cannot hold (the 9999-12-31 23:59:59 in New
# York, and 1 BC); SQLite stores only what Python can, so its first and last years.
if connection.vendor == "postgresql":
    STORED_OUT_OF_RANGE = {"too late": "10000-01-01 04:59:59+00", "too early": "0001-01-01 BC"}
else:
    STORED_OUT_OF_RANGE = {
        "too late": datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
        "too early": datetime(1, 1, 1, tzinfo=UTC),
    }


def store_out_of_range(obj, field, which):
    """Store the time STORED_OUT_OF_RANGE[which] in ``obj``'s ``field`` as SQL would."""
    when = STORED_OUT_OF_RANGE[which]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            table = obj._meta.db_table
            sql = f"UPDATE {table} SET {field} = %s WHERE id = %s"  # noqa: S608 (our names)
            cursor.execute(sql, [when, obj.pk])
    else:
        type(obj).objects.filter(pk=obj.pk).update(**{field: when})
