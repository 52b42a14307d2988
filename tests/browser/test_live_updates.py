from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from liveblog.dates import machine_time
from liveblog.models import Story

from ..factories import EntryFactory, KeyPointFactory, StoryFactory
from .conftest import WITHIN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def live_story():
    story = StoryFactory(headline="Live story")
    EntryFactory(story=story, headline="First update")
    return story


def test_a_posted_entry_appears_and_is_announced(page, live_story):
    page.goto(live_story.get_absolute_url())
    entry = EntryFactory(
        story=Story.objects.get(pk=live_story.pk), headline="Senators to be briefed"
    )
    expect(page.locator(f"#{entry.anchor}")).to_contain_text(
        "Senators to be briefed", timeout=WITHIN
    )
    first_article = page.locator("#entries article.entry").first
    expect(first_article).to_have_id(entry.anchor)
    expect(page.locator("#live-status")).to_have_text("1 new update")
    assert page.locator(f"#{entry.anchor}").count() == 1


def test_an_edited_entry_changes_in_place(page, live_story):
    entry = live_story.entries.get()
    page.goto(live_story.get_absolute_url())
    entry.headline = "First update, corrected"
    entry.save()
    expect(page.locator(f"#{entry.anchor} h3")).to_have_text(
        "First update, corrected", timeout=WITHIN
    )
    assert page.locator("article.entry").count() == 1


def test_a_deleted_entry_disappears(page, live_story):
    entry = live_story.entries.get()
    page.goto(live_story.get_absolute_url())
    expect(page.locator(f"#{entry.anchor}")).to_be_visible()
    entry.delete()
    expect(page.locator("article.entry")).to_have_count(0, timeout=WITHIN)


def test_key_points_refresh(page, live_story):
    page.goto(live_story.get_absolute_url())
    KeyPointFactory(story=live_story, text="The Pentagon readied the Bataan group")
    expect(page.locator(".key-points")).to_contain_text(
        "The Pentagon readied the Bataan group", timeout=WITHIN
    )


def test_the_live_marker_turns_into_the_ended_note(page, live_story):
    page.goto(live_story.get_absolute_url())
    expect(page.locator(".live-marker")).to_be_visible()
    live_story.status = Story.Status.ENDED
    live_story.save()
    expect(page.locator("#story-header")).to_contain_text("Coverage has ended", timeout=WITHIN)
    expect(page.locator(".live-marker")).to_have_count(0)


def test_a_reader_scrolled_down_gets_a_new_updates_button(page, live_story):
    for n in range(25):
        EntryFactory(story=live_story, headline=f"Update {n}", body="A paragraph.\n\n" * 6)
    page.goto(live_story.get_absolute_url())
    reading = page.locator("article.entry").nth(20)
    reading.scroll_into_view_if_needed()
    where = reading.bounding_box()["y"]
    entry = EntryFactory(story=Story.objects.get(pk=live_story.pk), headline="Breaking")
    button = page.locator("#new-updates")
    expect(button).to_have_text("1 new update", timeout=WITHIN)
    assert page.locator(f"#{entry.anchor}").count() == 0
    assert reading.bounding_box()["y"] == where  # what the reader reads has not moved
    button.click()
    expect(page.locator(f"#{entry.anchor}")).to_be_focused()
    expect(button).to_be_hidden()
    expect(page.locator("#entries article.entry").first).to_have_id(entry.anchor)


def test_load_older_updates_appends_the_next_page(page, live_story, settings):
    settings.LIVEBLOG_PAGE_SIZE = 3
    for n in range(5):
        EntryFactory(story=live_story, headline=f"Update {n}")
    page.goto(live_story.get_absolute_url())
    expect(page.locator("article.entry")).to_have_count(3)
    page.locator("a.load-older").click()
    expect(page.locator("article.entry")).to_have_count(6)
    expect(page.locator("a.load-older")).to_have_count(0)
    ids = page.eval_on_selector_all("article.entry", "els => els.map(e => e.id)")
    assert len(ids) == len(set(ids))
    assert page.url.endswith(live_story.get_absolute_url())


@pytest.fixture
def partner_site():
    """Another origin on loopback serving one page that frames what it is told to."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Page(BaseHTTPRequestHandler):
        body = b""

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(Page.body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def framing(url):
        Page.body = f'<!doctype html><title>Partner</title><iframe src="{url}"></iframe>'.encode()
        return f"http://127.0.0.1:{server.server_port}"

    yield framing
    server.shutdown()


def test_the_embed_updates_live_inside_a_partner_page(
    page, live_story, live_server, settings, partner_site
):
    origin = partner_site(f"{live_server.url}/stories/{live_story.slug}/embed/")
    settings.LIVEBLOG_EMBED_ORIGINS = [origin]
    page.goto(origin + "/")
    frame = page.frame_locator("iframe")
    expect(frame.locator("article.entry")).to_have_count(1)
    entry = EntryFactory(
        story=Story.objects.get(pk=live_story.pk), headline="Posted while embedded"
    )
    expect(frame.locator(f"#{entry.anchor}")).to_contain_text(
        "Posted while embedded", timeout=WITHIN
    )


def test_the_embed_refuses_to_be_framed_by_other_origins(
    page, live_story, live_server, settings, partner_site
):
    origin = partner_site(f"{live_server.url}/stories/{live_story.slug}/embed/")
    settings.LIVEBLOG_EMBED_ORIGINS = ["https://partner.example"]
    page.goto(origin + "/")
    page.wait_for_timeout(1000)
    assert page.frame_locator("iframe").locator("article.entry").count() == 0


def test_the_updated_time_follows_the_newest_change(page, live_story):
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Story.objects.filter(pk=live_story.pk).update(updated_at=an_hour_ago)
    page.goto(live_story.get_absolute_url())
    shown = page.locator("#story-header .story-updated time").get_attribute("datetime")
    assert shown == machine_time(an_hour_ago, live_story.tzinfo)
    EntryFactory(story=Story.objects.get(pk=live_story.pk), headline="Later update")
    updated_at = machine_time(Story.objects.get(pk=live_story.pk).updated_at, live_story.tzinfo)
    assert updated_at != shown
    expect(page.locator("#story-header .story-updated time")).to_have_attribute(
        "datetime", updated_at, timeout=WITHIN
    )


def test_the_embed_stops_saying_live_when_coverage_ends(page, live_story):
    page.goto(f"{live_story.get_absolute_url()}embed/")
    expect(page.locator("h1")).to_have_text("Live story")
    expect(page.locator(".live-marker")).to_be_visible()
    live_story.status = Story.Status.ENDED
    live_story.save()
    expect(page.locator("#story-header")).to_contain_text("Coverage has ended", timeout=WITHIN)
    expect(page.locator(".live-marker")).to_have_count(0)
    expect(page.locator(".lede")).to_have_count(0)  # the embed shows no lede, before or after
