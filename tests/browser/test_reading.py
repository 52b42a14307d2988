"""Reading oldest first and key updates only, across page boundaries, with live updates
arriving, and the choice remembered by the browser alone (issue 17)."""

import pytest
from playwright.sync_api import expect

from liveblog.models import Story

from ..factories import EntryFactory, KeyPointFactory, StoryFactory
from .conftest import WITHIN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def ids(page):
    return page.eval_on_selector_all("#entries article.entry", "els => els.map(e => e.id)")


@pytest.fixture
def small_pages(settings):
    settings.LIVEBLOG_PAGE_SIZE = 2


def test_oldest_first_pages_on_and_news_joins_at_the_end(page, small_pages):
    story = StoryFactory()
    entries = [EntryFactory(story=story, headline=f"Update {n}") for n in range(3)]
    page.goto(story.get_absolute_url())
    page.get_by_role("link", name="Oldest first").click()
    expect(page).to_have_url(f"{story.get_absolute_url()}?order=oldest")
    assert ids(page) == [e.anchor for e in entries[:2]]

    # News while a later page is still to load waits for that page.
    arrived = EntryFactory(story=Story.objects.get(pk=story.pk), headline="Arrived")
    expect(page.locator("#live-status")).to_contain_text("1 new update", timeout=WITHIN)
    assert ids(page) == [e.anchor for e in entries[:2]]

    page.get_by_role("link", name="Load later updates").click()
    expect(page.locator("#entries article.entry")).to_have_count(4)
    assert ids(page) == [e.anchor for e in [*entries, arrived]]
    expect(page.get_by_role("link", name="Load later updates")).to_have_count(0)

    # With every page loaded, news is appended at the end, not put at the top.
    last = EntryFactory(story=Story.objects.get(pk=story.pk), headline="Last")
    expect(page.locator("#entries article.entry").last).to_have_id(last.anchor, timeout=WITHIN)
    assert ids(page) == [e.anchor for e in [*entries, arrived, last]]


def test_key_updates_only_pages_on_and_takes_only_key_news(page, small_pages):
    story = StoryFactory()
    entries = [EntryFactory(story=story, headline=f"Update {n}") for n in range(6)]
    key = [entries[0], entries[2], entries[4]]
    for entry in key:
        KeyPointFactory(story=story, entry=entry)
    page.goto(story.get_absolute_url())
    page.get_by_role("link", name="Key updates only").click()
    expect(page).to_have_url(f"{story.get_absolute_url()}?only=key")
    assert ids(page) == [entries[4].anchor, entries[2].anchor]
    page.get_by_role("link", name="Load older updates").click()
    expect(page.locator("#entries article.entry")).to_have_count(3)
    assert ids(page) == [e.anchor for e in key[::-1]]

    story = Story.objects.get(pk=story.pk)
    EntryFactory(story=story, headline="Not a key update")
    became_key = EntryFactory(story=story, headline="Becomes a key update")
    KeyPointFactory(story=story, entry=became_key, text="It became key")
    expect(page.locator(f"#{became_key.anchor}")).to_be_visible(timeout=WITHIN)
    assert ids(page) == [became_key.anchor, *[e.anchor for e in key[::-1]]]
    expect(page.get_by_text("Not a key update")).to_have_count(0)


def test_the_choice_is_remembered_by_the_browser_not_a_cookie(page):
    story = StoryFactory()
    entries = [EntryFactory(story=story) for _ in range(2)]
    page.goto(story.get_absolute_url())
    page.get_by_role("link", name="Oldest first").click()
    page.get_by_role("link", name="Key updates only").click()
    expect(page).to_have_url(f"{story.get_absolute_url()}?order=oldest&only=key")

    page.goto(story.get_absolute_url())
    expect(page).to_have_url(f"{story.get_absolute_url()}?order=oldest&only=key")
    assert page.context.cookies() == []

    page.get_by_role("link", name="All updates").click()
    page.get_by_role("link", name="Newest first").click()
    page.goto(story.get_absolute_url())
    expect(page).to_have_url(story.get_absolute_url())
    assert ids(page) == [e.anchor for e in entries[::-1]]
