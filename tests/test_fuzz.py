"""Hostile input at every URL the project serves gets no 5xx and leaves no traceback in
the log (issue 13). Past 300 lines: the request builder, the budget that keeps the run
short and the report live together.

The table of every URL pattern is SURFACES, in surfaces.py: a pattern missing from it
fails test_every_url_pattern_is_in_the_table, as a public URL missing from the
visibility table does. For each pattern, by GET and by POST, each path parameter, query
parameter and form field gets each value of HOSTILE while the others stay valid, so
that the value gets as far as it can, from an anonymous reader, a reporter or an editor
(test_hostile_values_get_no_5xx says which); then Hypothesis sends requests that mix
several parameters with values it makes up. Each request runs in a savepoint that is
rolled back, so what one writes, or breaks in a PostgreSQL transaction, is not what the
next one finds.

The run's closing summary says how many patterns, requests and values were tried, and
how many answers were 5xx.
"""

import logging
from collections import Counter
from dataclasses import dataclass

import pytest
from django.contrib.admin import helpers
from django.db import transaction
from django.forms import BaseForm, BaseFormSet
from django.test import Client
from django.test.utils import ContextList
from django.urls import resolve, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import SUMMARY
from .surfaces import DEBUG_ONLY, SURFACES, make_world, url_patterns

pytestmark = pytest.mark.django_db

# Each value, sent as these bytes (percent-encoded in paths and query strings).
HOSTILE = {
    "negative": b"-1",
    "huge": b"99999999999999999999999",
    "huge negative": b"-99999999999999999999",
    "Arabic-Indic digits": "١٢٣".encode(),
    "superscript digit": "²".encode(),  # str.isdigit() says yes, int() says no
    "NUL": b"\x00",
    "invalid UTF-8": b"\xff\xfe",
    "10,000 characters": b"x" * 10_000,
    "10,000 digits": b"9" * 10_000,  # more than int() reads from a string
    "year 0": b"0",
    "year 1": b"1",
    "year 9999": b"9999",
    "year 10000": b"10000",
    "first day": b"0001-01-01",
    "last day": b"9999-12-31",
    "empty": b"",
    "word": b"abc",
}

PERSONAS = ("anonymous", "reporter", "editor")


@pytest.fixture
def world(editor, reporter):
    return make_world(editor, reporter)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Logins and password changes check a password per request: PBKDF2's deliberate cost
    # (a quarter second) times a thousand requests is what this setting saves.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def clients(editor, reporter):
    personas = {"anonymous": Client(raise_request_exception=False)}
    for name, user in (("reporter", reporter), ("editor", editor)):
        personas[name] = Client(raise_request_exception=False)
        personas[name].force_login(user)
    return personas


class ErrorLog(logging.Handler):
    """What django.request logs at ERROR: a 5xx, with its traceback."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def error_log():
    handler = ErrorLog()
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


STATS = Counter()
VALUES_TRIED = set()
PATTERNS_TRIED = set()


@pytest.fixture(scope="module", autouse=True)
def _report(pytestconfig):
    """Say how much was tried, in the run's closing summary (conftest.py prints it)."""
    yield
    served = PATTERNS_TRIED & set(url_patterns())
    pytestconfig.stash.setdefault(SUMMARY, []).append(
        f"fuzz: {len(served)} URL patterns, {len(PERSONAS)} personas, "
        f"{STATS['requests']} requests, {len(VALUES_TRIED)} distinct values, "
        f"{STATS['5xx']} answers 5xx or logged errors"
    )


@dataclass(frozen=True)
class Failure:
    key: str
    persona: str
    method: str
    values: tuple
    status: int
    error: str

    def __str__(self):
        sent = ", ".join(f"{name}={describe(value)}" for name, value in self.values)
        who = f"{self.method} {self.key} as {self.persona} with {sent or 'valid values'}"
        return f"{who}: {self.status} {self.error}"


def describe(value):
    for name, hostile in HOSTILE.items():
        if value == hostile:
            return name
    return repr(value[:40])


class Fuzzer:
    """Sends requests as the personas, each in a savepoint that is rolled back, and keeps
    the failures: answers 5xx, and errors django.request logged."""

    def __init__(self, world, clients, error_log):
        self.world, self.clients, self.error_log = world, clients, error_log
        self.failures = []

    def send(self, key, persona, method, values):
        url, body = SURFACES[key].build(self.world, method, values)
        client = self.clients[persona]
        cookies = client.cookies
        client.cookies = type(cookies)(cookies)  # a logout must not log the persona out
        self.error_log.records.clear()
        with transaction.atomic():
            if method == "GET":
                response = client.generic("GET", url)
            else:
                response = client.generic(
                    "POST", url, body, content_type="application/x-www-form-urlencoded"
                )
            transaction.set_rollback(True)
        client.cookies = cookies
        STATS["requests"] += 1
        PATTERNS_TRIED.add(key)
        VALUES_TRIED.update(values.values())
        records = self.error_log.records
        if response.status_code >= 500 or records:
            STATS["5xx"] += 1
            exc = records[0].exc_info if records else None
            error = f"{exc[0].__name__}: {exc[1]}"[:300] if exc else ""
            self.failures.append(
                Failure(key, persona, method, tuple(values.items()), response.status_code, error)
            )
        return response

    def judge(self):
        """Fail on any request that got a 5xx or logged an error."""
        assert not self.failures, "\n".join(str(f) for f in self.failures[:30])


def refused_fields(response):
    """The fields (named as posted) that the forms of the answer refused; None when it
    shows no form."""
    if response.context is None:
        return None
    contexts = response.context if isinstance(response.context, ContextList) else [response.context]
    forms = [form for context in contexts for form in forms_in(list(context.flatten().values()))]
    if not forms:
        return None
    return {form.add_prefix(name) for form in forms for name in form.errors}


def forms_in(value):
    if isinstance(value, list | tuple):
        for item in value:
            yield from forms_in(item)
    elif isinstance(value, BaseForm):
        yield value
    elif isinstance(value, BaseFormSet):
        yield value.management_form
        yield from value.forms
    elif isinstance(value, helpers.AdminForm):
        yield value.form
    elif isinstance(value, helpers.InlineAdminFormSet):
        yield from forms_in(value.formset)


def stopped_at_the_door(response):
    """Whether the persona was refused before the view read anything: a 403, or sent to
    log in."""
    login = reverse("admin:login")
    return response.status_code == 403 or (
        response.status_code == 302 and response["Location"].startswith(login)
    )


# --- The tests ------------------------------------------------------------------------


def test_every_url_pattern_is_in_the_table():
    served = set(url_patterns())
    assert served - set(SURFACES) == set(), "add these patterns to SURFACES in surfaces.py"
    assert set(SURFACES) - served <= DEBUG_ONLY, "these patterns are gone"


def test_each_url_of_the_table_reaches_its_pattern(world):
    for key, surface in SURFACES.items():
        if key in DEBUG_ONLY:
            continue
        url, _ = surface.build(world, "GET", {})
        match = resolve(url.split("?")[0])
        name = f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name
        if match.url_name is None:
            name = match.route
        assert name == key, url


@pytest.fixture
def fuzzer(world, clients, error_log):
    return Fuzzer(world, clients, error_log)


# The development server's media: in production the web server answers those URLs.
# (Django's serve() there is a 500 for a 10,000-character file name: OSError.)
SWEPT = sorted(set(SURFACES) - DEBUG_ONLY)


@pytest.mark.parametrize("key", SWEPT)
def test_hostile_values_get_no_5xx(key, fuzzer):
    """Each path and query parameter gets each hostile value, one at a time, from the
    personas who get past the door taking turns (all three where none does); a flag,
    one value; a form's fields, each value as try_in_form says. Every persona for every
    value would take ten minutes."""
    surface = SURFACES[key]
    for method in ("GET", "POST"):
        through = [
            persona
            for persona in PERSONAS
            if not stopped_at_the_door(fuzzer.send(key, persona, method, {}))
        ] or PERSONAS
        if method == "GET":
            names = surface.path_params() + list(surface.query)
        else:
            names = surface.path_params() if surface.form else []
        for i, name in enumerate(names):
            for j, value in enumerate(HOSTILE.values()):
                fuzzer.send(key, through[(i + j) % len(through)], method, {name: value})
        for i, flag in enumerate(surface.flags if method == "GET" else ()):
            fuzzer.send(
                key, through[i % len(through)], method, {flag: HOSTILE["10,000 characters"]}
            )
        fields = surface.form_data(fuzzer.world) if method == "POST" and surface.try_fields else {}
        for j, value in enumerate(HOSTILE.values() if fields else ()):
            try_in_form(fuzzer, key, through[j % len(through)], list(fields), value)
    fuzzer.judge()


def try_in_form(fuzzer, key, persona, fields, value):
    """Post ``value`` in every field at once, so that each field's check sees it; then
    in each field that took it, alone, the others valid, so that it goes on to be saved
    and shown. A field refuses a value whatever the others hold. Fields the answer does
    not name, because it shows no form or posts them in parts (a date and a time), get
    it alone."""
    refused = refused_fields(fuzzer.send(key, persona, "POST", dict.fromkeys(fields, value)))
    for name in fields:
        if refused is None or name not in refused:
            fuzzer.send(key, persona, "POST", {name: value})


NASTY = "0123456789-+.:/ eE%x<>'\"&;,[]١٢٣５²Ⅻ\u202e\x00"
made_up_values = st.one_of(
    st.sampled_from(list(HOSTILE.values())),
    st.integers(min_value=-(2**80), max_value=2**80).map(lambda n: str(n).encode()),
    st.text(alphabet=NASTY, max_size=40).map(str.encode),
    st.binary(max_size=16),
    st.builds(
        "{:04d}-{:02d}-{:02d}".format,
        st.integers(-1, 100_000),
        st.integers(0, 13),
        st.integers(0, 32),
    ).map(str.encode),
    st.builds(  # a cursor's shape: <microseconds>.<entry id>
        "{}.{}".format, st.integers(-(2**70), 2**70), st.integers(-1, 2**64)
    ).map(str.encode),
)


def test_requests_hypothesis_makes_up_get_no_5xx(fuzzer):

    @settings(
        max_examples=400,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def request_gets_no_5xx(data):
        key = data.draw(st.sampled_from(SWEPT), label="pattern")
        persona = data.draw(st.sampled_from(PERSONAS), label="persona")
        method = data.draw(st.sampled_from(["GET", "POST"]), label="method")
        names = SURFACES[key].parameters(fuzzer.world, method)
        chosen = (
            data.draw(st.lists(st.sampled_from(names), max_size=3, unique=True)) if names else []
        )
        values = {name: data.draw(made_up_values, label=name) for name in chosen}
        fuzzer.send(key, persona, method, values)

    request_gets_no_5xx()
    fuzzer.judge()
