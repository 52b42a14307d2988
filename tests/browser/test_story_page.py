import pytest
from playwright.sync_api import expect

from ..factories import EntryFactory, StoryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_copy_link_copies_the_permalink_and_says_link_copied(page, live_server):
    story = StoryFactory()
    entry = EntryFactory(story=story, headline="Senators to be briefed")
    page.goto(story.get_absolute_url())
    article = page.locator(f"#{entry.anchor}")
    article.locator("a.permalink").click()
    expect(article.locator(".copy-status")).to_have_text("Link copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == live_server.url + entry.permalink
    assert page.url == live_server.url + story.get_absolute_url()


def test_permalink_opens_the_story_at_that_entry(page):
    story = StoryFactory()
    entries = [EntryFactory(story=story) for _ in range(40)]
    target = entries[5]
    page.goto(target.permalink)
    article = page.locator(f"#{target.anchor}")
    expect(article).to_be_in_viewport()
    assert page.evaluate("document.querySelector(':target').id") == target.anchor
