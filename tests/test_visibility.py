"""Nothing unpublished or scheduled reaches a public surface: every public URL reads through
the one visibility rule, and a table test fails when a new one does not."""

from datetime import timedelta

import pytest
from django.utils import timezone

from liveblog import urls as public_urls
from liveblog.models import Entry, Story, Submission

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
    # The same URL pattern read oldest first and key updates only.
    "story oldest first": lambda entry: f"/stories/{entry.story.slug}/?order=oldest",
    "story key updates": lambda entry: f"/stories/{entry.story.slug}/?only=key&order=oldest",
    "entry": lambda entry: f"/stories/{entry.story.slug}/entries/{entry.pk}/",
    "person": lambda entry: "/people/newsmaker/",
    "updates": lambda entry: f"/stories/{entry.story.slug}/updates/0/",
    "embed": lambda entry: f"/stories/{entry.story.slug}/embed/",
    "ask": lambda entry: f"/stories/{entry.story.slug}/ask/",
    "story_rss": lambda entry: f"/stories/{entry.story.slug}/feed/rss/",
    "story_atom": lambda entry: f"/stories/{entry.story.slug}/feed/atom/",
    "latest_rss": lambda entry: "/feed/rss/",
    "latest_atom": lambda entry: "/feed/atom/",
    "api_stories": lambda entry: "/api/stories/",
    "api_story": lambda entry: f"/api/stories/{entry.story.slug}/",
    "api_entries": lambda entry: f"/api/stories/{entry.story.slug}/entries/?limit=100",
    "sitemap": lambda entry: "/sitemap.xml",
    "robots": lambda entry: "/robots.txt",
    "search": lambda entry: "/search/?q=Embargoed+minister",
    "story_search": lambda entry: f"/stories/{entry.story.slug}/search/?q=Embargoed&order=best",
}
# Public, but never kept by a cache: the readers' question form carries a CSRF token.
NEVER_CACHED = {"ask"}
STAFF_ONLY = {
    "story_preview",
    "entry_preview",
    "desk",
    "desk_preview",
    "desk_pin",
    "desk_key_point",
    "desk_questions",
    "desk_question",
}


def test_every_public_view_is_in_the_table():
    names = {pattern.name for pattern in public_urls.urlpatterns}
    assert names - STAFF_ONLY == {name.split()[0] for name in PUBLIC_SURFACES}


@pytest.mark.parametrize("surface", sorted(PUBLIC_SURFACES))
def test_no_unpublished_entry_reaches_a_public_surface(client, surface):
    for state, entry in hidden_entries().items():
        response = client.get(PUBLIC_SURFACES[surface](entry))
        assert response.status_code in (200, 404), (surface, state)
        assert SECRET not in response.content.decode(), (surface, state)


@pytest.mark.parametrize("surface", sorted(PUBLIC_SURFACES))
def test_no_readers_question_reaches_a_public_surface_before_it_is_answered(client, surface):
    entries = hidden_entries()
    live = Story.objects.get(slug="live")
    published = EntryFactory(story=live)
    KeyPointFactory(story=live, entry=published)
    for status in (Submission.Status.NEW, Submission.Status.USED, Submission.Status.DISMISSED):
        Submission.objects.create(story=live, text=SECRET, name=SECRET, email="s@example.com")
        Submission.objects.filter(status=Submission.Status.NEW).update(status=status)
    content = client.get(PUBLIC_SURFACES[surface](published)).content.decode()
    assert SECRET not in content
    assert "s@example.com" not in content
    assert entries  # the hidden entries' own story is there too


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
