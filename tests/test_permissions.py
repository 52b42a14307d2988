"""The permission table: every persona against every rule in liveblog/permissions.py."""

import inspect

import pytest
from django.contrib.auth.models import AnonymousUser

from liveblog import permissions
from liveblog.models import Entry

from .factories import EntryFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def non_staff(db):
    return UserFactory(username="reader", is_staff=False)


@pytest.fixture
def anonymous():
    return AnonymousUser()


@pytest.fixture
def entries(reporter, story):
    """An entry the reporter wrote (a byline), and one they created under another's."""
    written = EntryFactory(story=story, authors=[reporter.person])
    created = EntryFactory(story=story, created_by=reporter)
    return written, created


def can_edit_written(user, entries):
    return permissions.can_edit_entry(user, entries[0])


def can_edit_created(user, entries):
    return permissions.can_edit_entry(user, entries[1])


def editable_of_both(user, entries):
    editable = permissions.entries_editable_by(user, Entry.objects.all())
    return set(editable) == set(entries)


def may_sign(bylines):
    """Whether the user may post under ``bylines``: "own", "another" (only someone
    else's) or "none"."""

    def rule(user, entries):
        own = getattr(user, "person", None)
        authors = {"own": [own] if own else [], "another": [PersonFactory()], "none": []}
        return permissions.byline_refusal(user, authors[bylines]) is None

    return rule


RULES = {
    "is_editor": lambda user, entries: permissions.is_editor(user),
    "can_post_entries": lambda user, entries: permissions.can_post_entries(user),
    "can_edit_key_points": lambda user, entries: permissions.can_edit_key_points(user),
    "can_reopen_story": lambda user, entries: permissions.can_reopen_story(user),
    "can_edit_entry (wrote it)": can_edit_written,
    "can_edit_entry (created it)": can_edit_created,
    "entries_editable_by (both)": editable_of_both,
    "byline_refusal (own byline)": may_sign("own"),
    "byline_refusal (another's only)": may_sign("another"),
    "byline_refusal (none)": may_sign("none"),
    "can_answer_questions": lambda user, entries: permissions.can_answer_questions(
        user, entries[0].story
    ),
}

# Who may: the personas with each rule's answer, in the order of RULES.
TABLE = {
    "editor": (True, True, True, True, True, True, True, True, True, True, True),
    "reporter": (False, True, False, False, True, True, True, True, False, False, True),
    "other_reporter": (False, True, False, False, False, False, False, True, False, False, False),
    "non_staff": (False, False, False, False, False, False, False, False, False, False, False),
    "anonymous": (False, False, False, False, False, False, False, False, False, False, False),
}


def test_every_rule_is_in_the_table():
    rules = {
        name
        for name, function in inspect.getmembers(permissions, inspect.isfunction)
        if function.__module__ == permissions.__name__ and not name.startswith("_")
    }
    assert rules == {name.split(" ")[0] for name in RULES}


@pytest.mark.parametrize("persona", TABLE)
def test_each_persona_may_do_what_its_role_allows_and_no_more(request, persona, entries):
    user = request.getfixturevalue(persona)
    answers = {name: rule(user, entries) for name, rule in RULES.items()}
    assert answers == dict(zip(RULES, TABLE[persona], strict=True))
