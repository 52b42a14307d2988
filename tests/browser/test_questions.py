"""A reader asks, with and without JavaScript; the desk sees it arrive live, answers it,
and the answer reaches readers live, in both orders (issue 17)."""

import pytest
from playwright.sync_api import expect

from liveblog.models import Entry, Submission

from ..factories import StoryFactory
from .conftest import WITHIN
from .test_desk import open_desk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTION = "Will the embassy <close>?"


def test_a_reader_asks_in_place_with_javascript(page):
    story = StoryFactory()
    page.goto(story.get_absolute_url())
    page.get_by_role("link", name="Ask a question or send a tip").click()
    page.get_by_label("Your question or tip").fill(QUESTION)
    page.get_by_label("Your name (optional)").fill("Dana")
    page.get_by_role("button", name="Send to the newsroom").click()
    expect(page.locator("#ask .ask-thanks")).to_have_text("Thanks, the newsroom has it.")
    assert page.url.endswith(story.get_absolute_url())  # never left the story
    submission = Submission.objects.get()
    assert (submission.text, submission.name) == (QUESTION, "Dana")


def test_a_refused_question_keeps_what_was_typed_in_place(page, settings):
    settings.LIVEBLOG_ASK_PER_ADDRESS = 0
    story = StoryFactory()
    page.goto(story.get_absolute_url())
    page.get_by_role("link", name="Ask a question or send a tip").click()
    page.get_by_label("Your question or tip").fill(QUESTION)
    page.get_by_role("button", name="Send to the newsroom").click()
    expect(page.locator("#ask .ask-refusal")).to_contain_text("several questions in a short time")
    expect(page.locator("#ask .ask-refusal")).to_be_focused()
    expect(page.get_by_label("Your question or tip")).to_have_value(QUESTION)
    assert not Submission.objects.exists()


def test_a_reader_asks_without_javascript(browser, live_server):
    story = StoryFactory()
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(story.get_absolute_url())
        page.get_by_role("link", name="Ask a question or send a tip").click()
        page.get_by_label("Your question or tip").fill(QUESTION)
        page.get_by_role("button", name="Send to the newsroom").click()
        expect(page.locator(".ask-thanks")).to_have_text("Thanks, the newsroom has it.")
        assert Submission.objects.get().text == QUESTION
    finally:
        context.close()


@pytest.mark.parametrize("order", ["newest", "oldest"])
def test_the_desk_sees_a_question_live_and_readers_see_the_answer_live(
    page, browser, live_server, editor, order
):
    story = open_desk(page, live_server, editor)
    reader = browser.new_page(base_url=live_server.url)
    reader.goto(story.get_absolute_url() + ("?order=oldest" if order == "oldest" else ""))

    Submission.objects.create(story=story, text=QUESTION, name="")
    question = page.locator("#questions-list .desk-question")
    expect(question).to_contain_text(QUESTION, timeout=WITHIN)
    expect(page.locator("#questions-status")).to_have_text("1 new question from a reader")

    question.get_by_role("link", name="Answer").click()
    expect(page.locator("#id_body")).to_have_value(
        "> **A reader asks:** Will the embassy \\<close\\>\\?\n\n"
    )
    page.fill("#id_headline", "Will the embassy close?")
    page.locator("#id_body").press("End")
    page.locator("#id_body").type("Not yet, officials said.")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#desk-messages")).to_contain_text("Published")

    answer = Entry.objects.get(headline="Will the embassy close?")
    article = reader.locator(f"#{answer.anchor}")
    expect(article).to_contain_text("A reader asks: Will the embassy <close>?", timeout=WITHIN)
    expected_position = "last" if order == "oldest" else "first"
    expect(getattr(reader.locator("#entries article.entry"), expected_position)).to_have_id(
        answer.anchor
    )
    assert Submission.objects.get().status == Submission.Status.ANSWERED
    reader.close()
