"""Readers ask, the newsroom answers (issue 17): the form, its guards, the desk's queue,
the answer, and what becomes of a reader's e-mail address."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from liveblog import services
from liveblog.models import AuditEvent, Entry, Story, Submission

from .factories import EntryFactory, StoryFactory

pytestmark = pytest.mark.django_db

QUESTION = "Will the embassy close?"


def ask_url(story):
    return f"/stories/{story.slug}/ask/"


def ask(client, story, **fields):
    data = {"text": QUESTION, "name": "", "email": "", "website": "", **fields}
    return client.post(ask_url(story), data)


@pytest.fixture
def queue_story(story, reporter):
    """A story the reporter has written in: they see its questions."""
    EntryFactory(story=story, authors=[reporter.person])
    return story


# --- The form ---------------------------------------------------------------------------


def test_the_story_page_links_to_the_form_and_stays_cacheable(client, story):
    response = client.get(story.get_absolute_url())
    content = response.content.decode()
    assert f'<a class="ask-open" href="{ask_url(story)}">Ask a question or send a tip</a>' in (
        content
    )
    assert "csrfmiddlewaretoken" not in content
    assert not response.cookies
    assert "public" in response["Cache-Control"]


def test_the_form_page_is_never_cached_and_carries_a_csrf_token(client, story):
    response = client.get(ask_url(story))
    assert response.status_code == 200
    assert "csrfmiddlewaretoken" in response.content.decode()
    assert "no-store" in response["Cache-Control"] or "private" in response["Cache-Control"]


def test_asking_without_javascript_redirects_to_a_thank_you(client, story):
    response = ask(client, story, name="Dana", email="dana@example.com")
    assert response.status_code == 302
    assert response["Location"] == ask_url(story)
    thanks = client.get(response["Location"]).content.decode()
    assert "Thanks, the newsroom has it." in thanks
    submission = Submission.objects.get()
    assert (submission.story, submission.text, submission.name, submission.email) == (
        story,
        QUESTION,
        "Dana",
        "dana@example.com",
    )
    assert submission.status == Submission.Status.NEW


def test_asking_needs_a_csrf_token(story):
    client = Client(enforce_csrf_checks=True)
    assert ask(client, story).status_code == 403
    assert not Submission.objects.exists()


def test_the_honeypot_is_thanked_and_nothing_is_kept(client, story):
    response = ask(client, story, website="http://spam.example")
    assert response.status_code == 302
    assert not Submission.objects.exists()


def test_an_empty_question_is_refused_keeping_what_was_typed(client, story):
    response = ask(client, story, text="   ", name="Dana <b>")
    assert response.status_code == 400
    content = response.content.decode()
    assert "Write your question or tip." in content or "This field is required." in content
    assert 'value="Dana &lt;b&gt;"' in content


def test_a_question_too_long_is_refused(client, story, settings):
    settings.LIVEBLOG_ASK_MAX_CHARS = 20
    response = ask(client, story, text="x" * 21)
    assert response.status_code == 400
    assert "at most 20 characters" in response.content.decode()
    assert not Submission.objects.exists()


def test_a_bad_email_is_refused(client, story):
    assert ask(client, story, email="not an address").status_code == 400


def test_an_ended_story_takes_no_questions_and_says_so(client, story):
    story.status = Story.Status.ENDED
    story.save()
    page = client.get(story.get_absolute_url()).content.decode()
    assert "this story no longer takes questions" in page
    assert "ask-open" not in page
    response = ask(client, story)
    assert response.status_code == 403
    assert "this story no longer takes questions" in response.content.decode()
    assert not Submission.objects.exists()


def test_a_draft_story_has_no_form(client):
    draft = StoryFactory(status=Story.Status.DRAFT)
    assert client.get(ask_url(draft)).status_code == 404
    assert ask(client, draft).status_code == 404


def test_the_address_rate_limit_refuses_with_a_message(client, story, settings):
    settings.LIVEBLOG_ASK_PER_ADDRESS = 2
    assert ask(client, story).status_code == 302
    assert ask(client, story).status_code == 302
    refused = ask(client, story, text="A third one")
    assert refused.status_code == 429
    content = refused.content.decode()
    assert "several questions in a short time" in content
    assert "A third one" in content  # what was typed is kept
    assert Submission.objects.count() == 2
    # Another address is not held back.
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert ask(other, story).status_code == 302


def test_the_story_rate_limit_counts_every_address(story, settings):
    settings.LIVEBLOG_ASK_PER_STORY = 2
    for n in range(2):
        assert ask(Client(REMOTE_ADDR=f"192.0.2.{n}"), story).status_code == 302
    refused = ask(Client(REMOTE_ADDR="192.0.2.9"), story)
    assert refused.status_code == 429
    assert "many questions about this story" in refused.content.decode()


def test_the_queue_cap_refuses_while_the_queue_is_full(client, story, settings):
    settings.LIVEBLOG_ASK_QUEUE_LIMIT = 1
    assert ask(client, story).status_code == 302
    assert ask(Client(REMOTE_ADDR="192.0.2.8"), story).status_code == 429
    Submission.objects.update(status=Submission.Status.DISMISSED)
    assert ask(Client(REMOTE_ADDR="192.0.2.8"), story).status_code == 302


def test_the_limits_are_counted_in_the_shared_cache(client, story, settings):
    from django.core.cache import cache

    settings.LIVEBLOG_ASK_PER_ADDRESS = 1
    assert ask(client, story).status_code == 302
    cache.clear()  # what another process would see without the count: a fresh window
    assert ask(client, story).status_code == 302


def test_asking_sends_no_mail(client, story):
    ask(client, story, email="dana@example.com")
    assert mail.outbox == []


# --- Private until answered ----------------------------------------------------------------


def test_the_desk_queue_is_for_editors_and_the_storys_reporters(
    client, queue_story, editor, reporter, other_reporter
):
    Submission.objects.create(story=queue_story, text=QUESTION, email="dana@example.com")
    url = f"/desk/{queue_story.slug}/questions/"
    for user, allowed in ((editor, True), (reporter, True), (other_reporter, False)):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == (200 if allowed else 403), user
        if allowed:
            assert QUESTION in response.content.decode()
            assert "dana@example.com" in response.content.decode()
        desk = client.get(f"/desk/{queue_story.slug}/").content.decode()
        assert (QUESTION in desk) is allowed
    client.logout()
    assert client.get(url).status_code == 302  # to the login


def test_the_queue_escapes_what_readers_typed(client, story, editor):
    Submission.objects.create(story=story, text="<script>alert(1)</script>", name="<b>x</b>")
    client.force_login(editor)
    content = client.get(f"/desk/{story.slug}/questions/").content.decode()
    assert "<script>alert(1)" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "&lt;b&gt;x&lt;/b&gt;" in content


@pytest.mark.parametrize("size", [1, 30])
def test_queue_query_count_is_constant(client, story, editor, django_assert_num_queries, size):
    Submission.objects.bulk_create(
        Submission(story=story, text=f"Question {n}") for n in range(size)
    )
    client.force_login(editor)
    client.get(f"/desk/{story.slug}/questions/")  # a session's first request notes its activity
    # session, user, its permissions (user's and groups'), story, the questions, their count
    with django_assert_num_queries(7):
        assert client.get(f"/desk/{story.slug}/questions/").status_code == 200


def test_the_queue_shows_the_newest_and_says_how_many_wait(client, story, editor, settings):
    Submission.objects.bulk_create(
        Submission(story=story, text=f"Question {n}", created_at=timezone.now()) for n in range(55)
    )
    client.force_login(editor)
    content = client.get(f"/desk/{story.slug}/questions/").content.decode()
    assert "55 waiting, the newest 50 shown" in content
    assert content.count('class="desk-question"') == 50


# --- Deciding --------------------------------------------------------------------------------


def test_answer_opens_compose_with_the_question_quoted_and_escaped(client, story, editor):
    question = Submission.objects.create(
        story=story, text="Is **this** [a link](javascript:alert(1)) <i>?", name=""
    )
    client.force_login(editor)
    response = client.get(f"/desk/{story.slug}/", {"answer": question.pk})
    form = response.context["form"]
    body = form.initial["body"]
    assert body.startswith("> **A reader asks:** ")
    assert form.initial["answers"] == question.pk
    # Rendered as readers will see it: the question's words as typed, nothing live.
    entry = EntryFactory(story=story, body=body + "The answer.")
    html = entry.body_html
    assert "<strong>A reader asks:</strong>" in html
    assert "**this**" in html
    assert "<a" not in html
    assert "&lt;i&gt;" in html


def test_the_answer_names_the_reader_who_gave_a_name(story):
    question = Submission(story=story, text=QUESTION, name="Dana *Reyes*")
    body = services.submission_answer_body(question)
    entry = EntryFactory(story=story, body=body + "Yes.")
    assert "<strong>Dana *Reyes* asks:</strong>" in entry.body_html


def test_publishing_the_answer_marks_the_question_answered_and_logs_it(client, story, editor):
    question = Submission.objects.create(story=story, text=QUESTION)
    client.force_login(editor)
    response = client.post(
        f"/desk/{story.slug}/",
        {
            "headline": "Will the embassy close?",
            "body": services.submission_answer_body(question) + "Not yet, officials said.",
            "authors": [editor.person.pk],
            "submission_id": "7c2b1c52-7f0e-4a59-9d8f-0d8b4b0f6c1e",
            "answers": question.pk,
            "action": "publish",
        },
    )
    assert response.status_code == 302
    question.refresh_from_db()
    entry = Entry.objects.get(headline="Will the embassy close?")
    assert question.status == Submission.Status.ANSWERED
    assert question.answer == entry
    assert question.decided_by == editor
    event = AuditEvent.objects.get(action=AuditEvent.Action.QUESTION_ANSWERED)
    assert (event.user, event.entry, event.story) == (editor, entry, story)
    # Readers see the answer, the question quoted in it.
    assert QUESTION in client.get(story.get_absolute_url()).content.decode()


@pytest.mark.parametrize(
    ("action", "status", "logged"),
    [
        ("used", Submission.Status.USED, AuditEvent.Action.QUESTION_USED),
        ("dismiss", Submission.Status.DISMISSED, AuditEvent.Action.QUESTION_DISMISSED),
    ],
)
def test_mark_used_or_dismiss_leaves_the_queue_and_logs_it(
    client, queue_story, reporter, action, status, logged
):
    question = Submission.objects.create(story=queue_story, text=QUESTION)
    client.force_login(reporter)
    response = client.post(f"/desk/{queue_story.slug}/questions/{question.pk}/", {"action": action})
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.status == status
    assert AuditEvent.objects.get(action=logged).user == reporter
    assert QUESTION not in client.get(f"/desk/{queue_story.slug}/questions/").content.decode()


def test_a_reporter_of_another_story_cannot_decide(client, story, other_reporter):
    question = Submission.objects.create(story=story, text=QUESTION)
    client.force_login(other_reporter)
    response = client.post(f"/desk/{story.slug}/questions/{question.pk}/", {"action": "dismiss"})
    assert response.status_code == 403
    question.refresh_from_db()
    assert question.status == Submission.Status.NEW


def test_an_unknown_decision_is_a_400(client, story, editor):
    question = Submission.objects.create(story=story, text=QUESTION)
    client.force_login(editor)
    response = client.post(f"/desk/{story.slug}/questions/{question.pk}/", {"action": "publish"})
    assert response.status_code == 400


# --- Privacy ---------------------------------------------------------------------------------


def test_expired_email_addresses_are_forgotten(story, settings):
    settings.LIVEBLOG_ASK_RETENTION_DAYS = 30
    old = Submission.objects.create(
        story=story,
        text="Old",
        email="old@example.com",
        created_at=timezone.now() - timedelta(days=31),
    )
    recent = Submission.objects.create(
        story=story,
        text="Recent",
        email="new@example.com",
        created_at=timezone.now() - timedelta(days=29),
    )
    call_command("expire_submission_emails", stdout=open("/dev/null", "w"))  # noqa: SIM115
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.email, old.text) == ("", "Old")
    assert recent.email == "new@example.com"


def test_an_editor_deletes_a_submission_from_the_admin(client, story, editor):
    question = Submission.objects.create(story=story, text=QUESTION, email="dana@example.com")
    client.force_login(editor)
    url = f"/admin/liveblog/submission/{question.pk}/delete/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not Submission.objects.exists()


def test_reporters_have_no_admin_view_of_submissions(client, story, reporter):
    Submission.objects.create(story=story, text=QUESTION, email="dana@example.com")
    client.force_login(reporter)
    assert client.get("/admin/liveblog/submission/").status_code == 403
