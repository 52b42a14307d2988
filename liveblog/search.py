"""Searching entries: the one home of how a query finds, ranks and highlights them.

On PostgreSQL each entry keeps a stored ``tsvector`` (``Entry.search_vector``, GIN
indexed), written by the change pipeline's render step (``Entry.refresh_html``) in the
story's language: the headline weighs more than the dateline and body. A query is
parsed as a web search (words, "quoted phrases", -excluded), ranked with ``ts_rank``
and highlighted with ``ts_headline``. On SQLite, the embedded default, every word of the
query must appear in the headline, dateline or body (``icontains``), the headline
ranking higher, and the extract is highlighted in Python. ``connection.vendor`` is read
here and nowhere else.

Callers do not apply visibility here: readers' views search ``Entry.objects.public()``,
the desk a story's entries, drafts included.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVector,
)
from django.db import connection
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    F,
    FloatField,
    Func,
    Q,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.utils.html import escape
from django.utils.safestring import mark_safe

from .pagination import BadCursor, decode_cursor, encode_cursor

# The longest query anyone may send, in characters: longer is refused with a reason.
MAX_QUERY_CHARS = 200
# Words of a query the SQLite fallback matches (each is a LIKE over three columns).
MAX_FALLBACK_WORDS = 8

NEWEST, BEST = "newest", "best"
# Best first ranks the latest this many matches (see page).
BEST_WINDOW = 1000
# Newest first reads this many of the newest entries in order before it asks the search
# index for older matches (see newest_matches).
RECENT_ENTRIES = 20_000
ORDERS = (NEWEST, BEST)
ORDER_LABELS = {NEWEST: "Newest first", BEST: "Best match first"}

# A story's language (Story.language) and PostgreSQL's text search configuration for it:
# stemming and stop words. A language without a configuration of its own uses "simple".
SEARCH_CONFIGS = {
    "en": "english",
    "es": "spanish",
    "fr": "french",
    "de": "german",
    "it": "italian",
    "pt": "portuguese",
}
FALLBACK_CONFIG = "simple"

# ts_headline marks matches with these; everything between them is escaped like the
# rest, and only then do they become <mark> tags. Characters from Unicode's private
# use area, which no one types: one that is typed anyway is dropped, never markup.
START, STOP = "\ue000", "\ue001"
MARKED = re.compile(f"{START}([^{START}{STOP}]*){STOP}")

# What readers see of the Markdown body: link text without its target, no emphasis or
# quotation marks. The same text is indexed and highlighted.
LINK = r"\[([^]]*)\]\([^)]*\)"
MARKUP = r"[*_`>\\]+"


class BadQuery(ValueError):
    """A query that cannot be searched for, with the reason to show."""


@dataclass
class Page:
    """One page of search results, and the cursor of the next (None: the last page)."""

    results: list
    next_cursor: str | None


def uses_postgres():
    return connection.vendor == "postgresql"


def search_config(language):
    return SEARCH_CONFIGS.get(language, FALLBACK_CONFIG)


def clean_query(raw):
    """The query to search for: stripped, or BadQuery saying why it cannot be used."""
    query = (raw or "").strip()
    if not query:
        raise BadQuery("Type a word or two to search for.")
    if len(query) > MAX_QUERY_CHARS:
        raise BadQuery(
            f"That search is {len(query):,} characters long: "
            f"use at most {MAX_QUERY_CHARS}, a few words are enough."
        )
    return query


def plain_body():
    """The entry's body as readers read it (see LINK, MARKUP), as an SQL expression."""
    text = TextField()
    linked = Func(
        F("body"),
        Value(LINK),
        Value(r"\1"),
        Value("g"),
        function="regexp_replace",
        output_field=text,
    )
    return Func(
        linked, Value(MARKUP), Value(" "), Value("g"), function="regexp_replace", output_field=text
    )


def vector(config):
    """The stored search vector of an entry in a story whose configuration is ``config``:
    the headline first (weight A), then the dateline and body (B)."""
    return SearchVector("headline", weight="A", config=config) + SearchVector(
        "dateline", plain_body(), weight="B", config=config
    )


def index_fields(story):
    """What the render step writes with an entry's HTML to keep search up to date:
    ``{"search_vector": ...}`` on PostgreSQL, nothing where the fallback reads the text."""
    if uses_postgres():
        return {"search_vector": vector(search_config(story.language))}
    return {}


def reindex_story(story):
    """Index every entry of ``story`` again, after its language changed: one UPDATE."""
    fields = index_fields(story)
    if fields:
        story.entries.update(**fields)


def matching(entries, query, *, story=None, highlight=True):
    """``entries`` that match ``query`` (see clean_query), in ``story`` if given, each
    annotated with ``rank`` (higher is better) and, with ``highlight``, what
    ``extract`` needs (a list that shows no extract, like the admin's, goes without)."""
    if story is not None:
        entries = entries.filter(story=story)
    if uses_postgres():
        return _postgres_matching(entries, query, story, highlight)
    return _fallback_matching(entries, query)


def _ts_query(entries, query, story):
    # A story's entries are indexed in its own configuration; across stories, the
    # query is parsed in each configuration in use and any may match. Only those in
    # use: each copy of the query multiplies the planner's estimate of the matches,
    # and a high estimate makes it look for a rare word by reading every entry.
    configs = [search_config(story.language)] if story else _configs_in_use(entries)
    ts_query = None
    for config in configs:
        one = SearchQuery(query, config=config, search_type="websearch")
        ts_query = one if ts_query is None else ts_query | one
    return ts_query


def _configs_in_use(entries):
    stories = entries.model._meta.get_field("story").related_model.objects.public()
    languages = stories.order_by().values_list("language", flat=True).distinct()
    return sorted({search_config(language) for language in languages}) or [FALLBACK_CONFIG]


def _postgres_matching(entries, query, story, highlight):
    ts_query = _ts_query(entries, query, story)
    found = entries.filter(search_vector=ts_query).defer("search_vector")
    # As double precision: ts_rank's real reads back as the shortest decimal that names
    # it, which a cursor's comparison would take as another double.
    found = found.annotate(rank=Cast(SearchRank(F("search_vector"), ts_query), FloatField()))
    if not highlight:
        return found
    if story is not None:
        config = Value(search_config(story.language))
    else:
        config = Case(
            *(When(story__language=lang, then=Value(c)) for lang, c in SEARCH_CONFIGS.items()),
            default=Value(FALLBACK_CONFIG),
        )
    marks = {"start_sel": START, "stop_sel": STOP, "config": config}
    # Evaluated for the rows of the page only: PostgreSQL computes costly SELECT
    # expressions after the ORDER BY ... LIMIT they play no part in.
    return found.annotate(
        marked_headline=SearchHeadline("headline", ts_query, highlight_all=True, **marks),
        marked_extract=SearchHeadline(
            plain_body(),
            ts_query,
            max_words=30,
            min_words=12,
            max_fragments=2,
            fragment_delimiter=" … ",
            **marks,
        ),
    )


def words(query):
    """The words of ``query`` the fallback looks for, at most MAX_FALLBACK_WORDS."""
    return list(dict.fromkeys(w.lower() for w in re.findall(r"\w+", query)))[:MAX_FALLBACK_WORDS]


def _fallback_matching(entries, query):
    terms = words(query)
    if not terms:
        return entries.none().annotate(rank=Value(0.0, output_field=FloatField()))
    for term in terms:
        entries = entries.filter(
            Q(headline__icontains=term) | Q(dateline__icontains=term) | Q(body__icontains=term)
        )
    in_headline = [When(headline__icontains=term, then=Value(1.0)) for term in terms]
    rank = Value(0.1)
    for when in in_headline:
        rank = rank + Case(when, default=Value(0.0), output_field=FloatField())
    return entries.annotate(rank=rank, search_words=Value(" ".join(terms))).defer("search_vector")


def marked(text):
    """``text`` from ts_headline, escaped, its matches in <mark>: the only markup."""
    out, last = [], 0
    for match in MARKED.finditer(text):
        out.append(_escape_plain(text[last : match.start()]))
        out.append(f"<mark>{_escape_plain(match.group(1))}</mark>")
        last = match.end()
    out.append(_escape_plain(text[last:]))
    return mark_safe("".join(out))  # noqa: S308 (every piece of text is escaped above)


def _escape_plain(text):
    return escape(text.replace(START, "").replace(STOP, ""))


def highlight(text, terms, *, max_words=None):
    """``text`` escaped, each of ``terms`` in it in <mark>; with ``max_words``, a window
    of that many words around the first match (the fallback's ts_headline)."""
    if max_words is not None:
        tokens = text.split()
        first = next((i for i, tok in enumerate(tokens) if any(t in tok.lower() for t in terms)), 0)
        start = max(0, first - max_words // 3)
        window = " ".join(tokens[start : start + max_words])
        text = ("… " if start else "") + window + (" …" if start + max_words < len(tokens) else "")
    text = text.replace(START, "").replace(STOP, "")
    if terms:
        pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
        text = pattern.sub(lambda m: f"{START}{m.group(0)}{STOP}", text)
    return marked(text)


def extract(entry):
    """The highlighted extract of a search result: (headline, body extract), escaped
    HTML whose only tags are <mark>."""
    if hasattr(entry, "marked_extract"):
        return marked(entry.marked_headline or ""), marked(entry.marked_extract or "")
    terms = (getattr(entry, "search_words", "") or "").split()
    body = entry.text
    return highlight(entry.headline, terms), highlight(body, terms, max_words=30)


# --- Keyset pages ---------------------------------------------------------------------

RANK_CURSOR = re.compile(r"([0-9]{1,20}(?:\.[0-9]{1,20})?(?:e-?[0-9]{1,3})?)_(.+)")


def encode_rank_cursor(entry):
    return f"{entry.rank!r}_{encode_cursor(entry)}"


def decode_rank_cursor(value):
    """(rank, published_at, pk) of a best-first cursor, or BadCursor."""
    match = RANK_CURSOR.fullmatch(value)
    if match is None:
        raise BadCursor("expected “<rank>_<microseconds>.<entry id>”")
    rank = float(match.group(1))
    if rank != rank or rank in (float("inf"), float("-inf")):
        raise BadCursor("the rank is not a number")
    return (rank, *decode_cursor(match.group(2)))


def decode(order, value):
    """The position a cursor of ``order`` names, or BadCursor saying what is wrong."""
    return decode_rank_cursor(value) if order == BEST else decode_cursor(value)


def newest_matches(results, count, *, after=None, story=None):
    """The first ``count`` of ``results`` (from ``matching``, in ``story`` if given)
    newest first, after the position ``after`` (published_at, pk) if given.

    In order, the database reads the newest entries and stops at ``count`` matches:
    quick for a word in many entries, but for a word in none it reads the whole archive
    (a million entries: half a second), and its planner cannot tell which it has. From
    the search index it gets every match at once, then sorts them: quick for a rare
    word, slow for a common one. So the newest RECENT_ENTRIES entries (of the story
    searched, from the position ``after``) are read in order, and only when they hold
    too few matches are the older ones asked of the index.
    """
    if after is not None:
        results = results.at_or_before(*after)
    newest = results.newest_first()
    if not uses_postgres():
        return list(newest[:count])
    # Where the newest RECENT_ENTRIES end: an index-only read, visibility aside (the
    # line only splits the work; both sides apply ``results``' own filters). Counted in
    # the story and from the position the page starts at: a story or a page deep in
    # the archive would otherwise ask the index for every match it holds, and sort them.
    every_entry = results.model._base_manager.order_by("-published_at")
    if story is not None:
        every_entry = every_entry.filter(story=story).order_by("-published_at", "-id")
    if after is not None:
        every_entry = every_entry.filter(published_at__lte=after[0])
    horizon = every_entry.values_list("published_at", flat=True)[RECENT_ENTRIES:][:1]
    horizon = next(iter(horizon), None)
    if horizon is None:
        return list(newest[:count])
    rows = list(newest.filter(published_at__gt=horizon)[:count])
    if len(rows) < count:
        # Ordered by an expression no index holds, so the plan takes the search index.
        unindexed = (F("published_at") + Value(timedelta(0))).desc()
        older = results.filter(published_at__lte=horizon).order_by(unindexed, "-id")
        rows += older[: count - len(rows)]
    return rows


def _one_of(pks):
    """A condition: the row's id is one of ``pks``. On PostgreSQL one array parameter:
    Django takes longer to build an IN list of a thousand ids than the database to
    answer it."""
    if not uses_postgres():
        return Q(pk__in=pks)
    ids = Value(list(pks), output_field=ArrayField(BigIntegerField()))
    return _AnyOf(F("pk"), ids)


class _AnyOf(Func):
    """``<value> = ANY(<array>)``, a condition."""

    arg_joiner = " = ANY("
    template = "%(expressions)s)"
    output_field = BooleanField()


def page(results, *, order=NEWEST, after=None, size=20, story=None):
    """One page of ``results`` (from ``matching``, in ``story`` if given), newest or best
    first, after the position ``after`` (from ``decode``), and the next page's cursor.
    Fetches one more result than it shows to know whether there is a next page."""
    if order == BEST:
        # Ranked among the latest BEST_WINDOW matches only: ranking reads each match's
        # vector, and a word in every other entry of a million would take seconds.
        ids = results.values_list("pk", flat=True)
        window = newest_matches(ids, BEST_WINDOW, story=story)
        results = results.filter(_one_of(window))
        if after is not None:
            rank, published_at, pk = after
            results = results.filter(
                Q(rank__lt=rank)
                | Q(rank=rank, published_at__lt=published_at)
                | Q(rank=rank, published_at=published_at, id__lt=pk)
            )
        results = results.order_by("-rank", "-published_at", "-id")
        rows = list(results[: size + 1])
        encode = encode_rank_cursor
    else:
        rows = newest_matches(results, size + 1, after=after, story=story)
        encode = encode_cursor
    next_cursor = encode(rows[size - 1]) if len(rows) > size else None
    return Page(rows[:size], next_cursor)
