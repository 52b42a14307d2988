from datetime import UTC, datetime, timedelta

import factory
from django.contrib.auth import get_user_model

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
