"""HTTP caching: every public answer says how long the caches in front may keep it, and
carries the surrogate key that purges it when its story changes."""

import pytest
from django.test import override_settings

from .factories import EntryFactory, PersonFactory, StoryFactory
from .test_visibility import NEVER_CACHED, PUBLIC_SURFACES

CACHED_SURFACES = sorted(set(PUBLIC_SURFACES) - NEVER_CACHED)

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry():
    """A public entry in a story whose slug no other URL of the table contains, written
    by the person the table's person page shows."""
    person = PersonFactory(slug="newsmaker")
    return EntryFactory(story=StoryFactory(slug="the-story"), authors=[person])


@pytest.mark.parametrize("surface", CACHED_SURFACES)
def test_every_public_answer_may_be_kept_by_the_caches_in_front(client, entry, surface):
    response = client.get(PUBLIC_SURFACES[surface](entry))
    assert response.status_code == 200
    cache_control = response["Cache-Control"]
    assert cache_control.startswith("public, max-age=")
    for directive in ("s-maxage=", "stale-while-revalidate=", "stale-if-error="):
        assert directive in cache_control


@override_settings(LIVEBLOG_PAGE_MAX_AGE=10)
@pytest.mark.parametrize("url", ["/", "/people/newsmaker/"])
def test_front_and_person_pages_are_kept_as_long_as_story_pages(client, entry, url):
    assert client.get(url)["Cache-Control"] == client.get("/stories/the-story/")["Cache-Control"]
    assert client.get(url)["Cache-Control"] == (
        "public, max-age=2, s-maxage=10, stale-while-revalidate=30, stale-if-error=600"
    )


@override_settings(LIVEBLOG_UPDATES_MAX_AGE=4)
def test_updates_and_api_answers_are_kept_for_the_updates_lifetime(client, entry):
    for url in ("/stories/the-story/updates/0/", "/api/stories/the-story/"):
        assert client.get(url)["Cache-Control"] == (
            "public, max-age=2, s-maxage=4, stale-while-revalidate=12, stale-if-error=600"
        )


@pytest.mark.parametrize(
    "url",
    [
        "/stories/the-story/?before=nonsense",
        "/stories/the-story/updates/nonsense/",
        "/api/stories/the-story/entries/?limit=0",
        "/api/stories/missing/",
        "/stories/missing/",
    ],
)
def test_error_answers_are_not_kept(client, entry, url):
    response = client.get(url)
    assert response.status_code == (404 if "missing" in url else 400)
    assert "public" not in response.get("Cache-Control", "")


@pytest.mark.parametrize("surface", CACHED_SURFACES)
def test_every_public_answer_carries_the_surrogate_key_of_what_it_shows(client, entry, surface):
    # Every public URL is in the table (test_workflow.py checks it): a new URL about one
    # story fails here until it captures the story's slug as "slug".
    url = PUBLIC_SURFACES[surface](entry)
    expected = "story-the-story" if "/the-story/" in url else "stories"
    response = client.get(url)
    assert response["Surrogate-Key"] == response["Cache-Tag"] == expected


@pytest.mark.parametrize("surface", sorted(NEVER_CACHED))
def test_a_never_cached_public_answer_says_so(client, entry, surface):
    response = client.get(PUBLIC_SURFACES[surface](entry))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]
