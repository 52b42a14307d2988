import pytest
from django.test import Client
from playwright.sync_api import expect

from liveblog.models import Entry, KeyPoint, Story

from ..factories import EntryFactory, StoryFactory
from .conftest import WITHIN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_desk(page, live_server, user):
    """The desk of a live story, open in the browser as ``user``, signed in."""
    story = StoryFactory(headline="Live story")
    EntryFactory(story=story, headline="First update")
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"/desk/{story.slug}/")
    return story


@pytest.fixture
def desk(page, live_server, reporter):
    return open_desk(page, live_server, reporter)


def test_ctrl_enter_publishes_and_clears_the_form_for_the_next_entry(page, desk):
    page.fill("#id_headline", "Senators to be briefed")
    page.fill("#id_dateline", "WASHINGTON")
    page.fill("#id_body", "Officials will brief senators on **Wednesday**.")
    page.locator("#id_body").press("Control+Enter")
    expect(page.locator("#desk-messages")).to_contain_text("Published: “Senators to be briefed”.")
    expect(page.locator("#id_headline")).to_have_value("")
    expect(page.locator("#id_headline")).to_be_focused()
    entry = Entry.objects.get(headline="Senators to be briefed")
    expect(page.locator(f"#{entry.anchor}")).to_contain_text("Wednesday", timeout=WITHIN)


def test_the_preview_shows_the_entry_as_readers_will(page, desk):
    page.fill("#id_headline", "A headline in preview")
    page.fill("#id_dateline", "BAGHDAD")
    page.fill("#id_body", "Words in *italics*.")
    preview = page.locator("#preview article.entry")
    expect(preview.locator("h3")).to_have_text("A headline in preview")
    expect(preview.locator(".entry-body")).to_contain_text("BAGHDAD — Words in italics.")
    expect(preview.locator(".entry-body em")).to_have_text("italics")


def test_a_refused_post_keeps_what_was_typed(page, desk):
    page.fill("#id_body", "A paragraph that must not be lost.")
    page.click("button[value=publish]")
    expect(page.locator("#compose-status")).to_contain_text("check the fields marked in red")
    expect(page.locator("#id_body")).to_have_value("A paragraph that must not be lost.")
    expect(page.locator("#id_headline")).to_be_focused()
    assert Entry.objects.count() == 1


def test_a_lost_connection_keeps_what_was_typed_and_posts_once_back(page, desk):
    page.route(
        f"**/desk/{desk.slug}/",
        lambda route: route.abort() if route.request.method == "POST" else route.continue_(),
    )
    page.fill("#id_headline", "Typed during an outage")
    page.fill("#id_body", "Every word kept.")
    page.click("button[value=publish]")
    expect(page.locator("#compose-status")).to_contain_text("the connection failed")
    expect(page.locator("#id_body")).to_have_value("Every word kept.")
    page.unroute(f"**/desk/{desk.slug}/")
    page.click("button[value=publish]")
    page.click("button[value=publish]")  # an impatient second click
    expect(page.locator("#desk-messages")).to_contain_text("Typed during an outage")
    assert Entry.objects.filter(headline="Typed during an outage").count() == 1


def test_what_was_typed_survives_a_reload(page, desk):
    page.fill("#id_headline", "Half-written")
    page.fill("#id_body", "Not posted yet.")
    page.reload()
    expect(page.locator("#id_headline")).to_have_value("Half-written")
    expect(page.locator("#id_body")).to_have_value("Not posted yet.")


def test_colleagues_entries_arrive_with_the_desk_controls(page, desk):
    entry = EntryFactory(story=Story.objects.get(pk=desk.pk), headline="Posted by a colleague")
    article = page.locator(f"#{entry.anchor}")
    expect(article).to_contain_text("Posted by a colleague", timeout=WITHIN)
    controls = page.locator(f"#{entry.anchor} + .desk-controls a")
    expect(controls).to_have_attribute("href", f"/admin/liveblog/entry/{entry.pk}/change/")


def test_an_editor_pins_a_colleagues_entry_that_arrived_live(page, live_server, editor):
    story = open_desk(page, live_server, editor)
    entry = EntryFactory(story=story, headline="Posted by a colleague")
    expect(page.locator(f"#{entry.anchor}")).to_contain_text("Posted", timeout=WITHIN)
    page.locator(f"#{entry.anchor} + .desk-controls").get_by_text("Pin as key point").click()
    expect(page.locator("#key-points-desk")).to_contain_text("Posted by a colleague")
    assert KeyPoint.objects.get().entry == entry


def test_publish_stays_in_view_while_a_long_body_is_typed_on_a_desktop_screen(page, desk):
    page.set_viewport_size({"width": 1366, "height": 768})
    page.fill("#id_headline", "A long one")
    body = page.locator("#id_body")
    body.click()
    body.press_sequentially("word " * 40)
    body.fill("\n\n".join(["A paragraph of the long entry being typed."] * 60))
    body.press("End")
    body.press_sequentially(" Still typing.")
    assert page.evaluate("document.documentElement.scrollHeight") > 768  # the form is long
    publish = page.locator("button[value=publish]")
    expect(publish).to_be_in_viewport(ratio=1)
    box = publish.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 768


def test_publishing_to_a_story_that_ended_meanwhile_says_so_and_keeps_the_entry(page, desk):
    page.fill("#id_headline", "Late news")
    page.fill("#id_body", "Typed while the editor ended the story.")
    story = Story.objects.get(pk=desk.pk)
    story.status = Story.Status.ENDED
    story.save()
    page.click("button[value=publish]")
    expect(page.locator("#compose-status")).to_contain_text("This story has ended")
    expect(page.locator("#id_body")).to_have_value("Typed while the editor ended the story.")
    expect(page.locator("#desk-messages button[value=reopen]")).to_have_count(0)  # a reporter
    assert not Entry.objects.filter(headline="Late news").exists()


def test_an_editor_opening_the_desk_of_an_ended_story_can_reopen_it(page, live_server, editor):
    story = open_desk(page, live_server, editor)
    story.status = Story.Status.ENDED
    story.save()
    page.reload()
    expect(page.locator("#desk-ended")).to_contain_text("This story has ended")
    page.click("button[value=reopen]")
    expect(page.locator("#desk-messages")).to_contain_text("Reopened")
    expect(page.locator("#id_headline")).to_be_visible()
    assert Story.objects.get(pk=story.pk).status == Story.Status.LIVE
