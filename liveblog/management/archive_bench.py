"""The archive benchmark (``manage.py benchmark --archive``): the staff pages on the demo
data, then again once the database holds a newsroom's archive, as ratios.

PAGES is the table of what is measured: a label and a URL, whose {placeholders} name
objects of the data being measured (see ``placeholders``). Add a page by adding a line.
"""

import io
import statistics
import time
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client

from liveblog import search
from liveblog.models import AuditEvent, Entry, KeyPoint, Person, Story

PAGES = [
    ("entry list", "/admin/liveblog/entry/"),
    ("entry list, one story", "/admin/liveblog/entry/?story__id__exact={story}"),
    ("entry list, drafts", "/admin/liveblog/entry/?status__exact=draft"),
    ("entry list, live stories", "/admin/liveblog/entry/?story__status__exact=live"),
    ("entry search, a headline's start", "/admin/liveblog/entry/?q={headline_word}"),
    ("entry search, no match", "/admin/liveblog/entry/?q=Zyzzyva"),
    ("entry search, an entry's number", "/admin/liveblog/entry/?q={entry}"),
    ("entry form", "/admin/liveblog/entry/{entry}/change/"),
    ("new entry form", "/admin/liveblog/entry/add/?story={story}"),
    ("story list", "/admin/liveblog/story/"),
    ("story form with its key points", "/admin/liveblog/story/{story}/change/"),
    ("person list", "/admin/liveblog/person/"),
    ("person search", "/admin/liveblog/person/?q={person_word}"),
    ("audit list", "/admin/liveblog/auditevent/"),
    ("audit list, one story", "/admin/liveblog/auditevent/?story__id__exact={story}"),
    (
        "story lookup (autocomplete)",
        "/admin/autocomplete/?app_label=liveblog&model_name=entry&field_name=story"
        "&term={story_word}",
    ),
    (
        "byline lookup (autocomplete)",
        "/admin/autocomplete/?app_label=liveblog&model_name=entry&field_name=authors"
        "&term={person_word}",
    ),
    # Readers' pages over the same archive (issue 14): search, people, the front page.
    ("site search, a common word", "/search/?q={headline_word}"),
    ("site search, best first", "/search/?q={headline_word}&order=best"),
    ("site search, no match", "/search/?q=Zyzzyva"),
    ("story search", "/stories/{story_slug}/search/?q={headline_word}"),
    ("person page", "/people/{person_slug}/"),
    ("front page with the archive", "/"),
]
# The pages whose median time is printed on its own: search.
SEARCH_PAGES = [label for label, url in PAGES if "search/?q=" in url and "admin" not in url]

# What the goals are: the archive's page in at most this many times the demo's, and
# under this many milliseconds.
RATIO_GOAL = 3.0
MS_GOAL = 150

START = datetime(2024, 1, 1, tzinfo=UTC)
FIRST_NAMES = ["Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Harper", "Jordan"]
LAST_NAMES = ["Abbott", "Baxter", "Chen", "Diaz", "Evans", "Farah", "Gupta", "Haddad"]


def placeholders(story):
    """The objects a page's URL names, taken from ``story`` (the one a list is filtered
    to) so that the demo and the archive name pages of the same kind."""
    entry = story.entries.order_by("-published_at", "-id").first()
    person = entry.authors.first() or Person.objects.order_by("pk").first()
    return {
        "story": story.pk,
        "story_slug": story.slug,
        "person_slug": person.slug,
        "entry": entry.pk,
        "headline_word": entry.headline.split()[0],
        "story_word": story.headline.split()[0][:4],
        "person_word": person.name.split()[0][:4],
    }


def time_pages(client, context, requests):
    """Milliseconds per page: the best of three medians of ``requests`` GETs (after a
    warm-up), as the story-page benchmark times its pages."""
    medians = {}
    for _ in range(3):
        for label, url in PAGES:
            url = url.format(**context)
            times = []
            for n in range(requests + 2):
                started = time.perf_counter()
                response = client.get(url)
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, (url, response.status_code)  # noqa: S101
                if n >= 2:
                    times.append(elapsed)
            medians[label] = min(medians.get(label, float("inf")), statistics.median(times))
    return {label: median * 1000 for label, median in medians.items()}


def series(count):
    """(WITH clause, FROM item) for the integers 1..count as n.i, in this database's SQL."""
    if connection.vendor == "postgresql":
        return "", f"generate_series(1, {int(count)}) AS n(i)"
    recursive = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {})"
    return recursive.format(int(count)), "n"


def minutes_before(column, minutes):
    if connection.vendor == "postgresql":
        return f"{column} - ({minutes} * INTERVAL '1 minute')"
    return f"datetime({column}, '-' || ({minutes}) || ' minutes')"


def insert_copies(template, count, overrides):
    """Insert ``count`` copies of the row ``template`` in one INSERT ... SELECT, with the
    SQL expressions ``overrides`` (by column, over n.i = 1..count) for some columns.
    Every other column is the template's, so a column added later is filled too."""
    model = type(template)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    values = ", ".join(overrides.get(f.column, f"t.{quote(f.column)}") for f in fields)
    with_clause, source = series(count)
    table = quote(model._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({columns}) {with_clause} "  # noqa: S608 - our own names
        f"SELECT {values} FROM {source}, {table} t WHERE t.id = {int(template.pk)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)


def load_archive(entries, stories, people, stdout):
    """Add ``stories`` ended stories (a few live), ``people`` people, ``entries``
    entries over those stories (each with a byline and a line in the editors' log; one in
    fifty a draft) and five key points a story, in bulk."""
    started = time.perf_counter()
    Story.objects.bulk_create(
        Story(
            headline=f"{['Storm', 'Election', 'Summit', 'Trial'][n % 4]} archive story {n}",
            slug=f"archive-{n}",
            status=Story.Status.LIVE if n % 250 == 0 else Story.Status.ENDED,
            coverage_start=START,
            coverage_end=START,
        )
        for n in range(stories)
    )
    archive = Story.objects.filter(slug__startswith="archive-").order_by("pk")
    first_story = archive.first()
    Person.objects.bulk_create(
        Person(
            name=f"{FIRST_NAMES[n % 8]} {LAST_NAMES[n // 8 % 8]} {n}",
            slug=f"archive-person-{n}",
            title="Reporter" if n % 10 == 0 else "",
        )
        for n in range(people)
    )
    first_person = Person.objects.filter(slug__startswith="archive-person-").order_by("pk")[0].pk
    template = Entry(
        story=first_story,
        headline="Archive update",
        dateline="WASHINGTON",
        body="Body.\n\nMore.",
        body_html="<p>Body.</p><p>More.</p>",
        published_at=START,
        created_at=START,
        updated_at=START,
    )
    Entry.objects.bulk_create([template])
    template.html = template.render_html()  # its copies' links name its id: no matter here
    Entry.objects.filter(pk=template.pk).update(html=template.html)
    # Stories were created in one statement, so their ids run on without a gap.
    first = first_story.pk
    insert_copies(
        template,
        entries - 1,
        {
            "story_id": f"{first} + (n.i % {stories})",
            "headline": "CASE n.i % 4 WHEN 0 THEN 'Storm' WHEN 1 THEN 'Vote' "
            "WHEN 2 THEN 'Talks' ELSE 'Verdict' END || ' update ' || n.i",
            "dateline": "CASE WHEN n.i % 3 = 0 THEN 'LONDON' ELSE 'WASHINGTON' END",
            "status": "CASE WHEN n.i % 50 = 0 THEN 'draft' ELSE 'published' END",
            "published_at": minutes_before("t.published_at", "n.i"),
            "created_at": minutes_before("t.created_at", "n.i"),
            "updated_at": minutes_before("t.updated_at", "n.i"),
        },
    )
    quote = connection.ops.quote_name
    through = Entry.authors.through._meta.db_table
    editor = get_user_model().objects.get(username="editor").pk
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(through)} (entry_id, person_id) "  # noqa: S608 - our own names
            f"SELECT id, {first_person} + (id % {people}) FROM liveblog_entry "
            f"WHERE story_id >= {first}"
        )
        cursor.execute(
            f"INSERT INTO {quote(AuditEvent._meta.db_table)} "  # noqa: S608 - our own names
            "(story_id, entry_id, user_id, action, detail, created_at) "
            f"SELECT story_id, id, {editor}, 'published', '', published_at FROM liveblog_entry "
            f"WHERE story_id >= {first}"
        )
    # The search index the render step keeps (PostgreSQL only; SQLite reads the text).
    Entry.objects.filter(story_id__gte=first).update(**search.index_fields(first_story))
    KeyPoint.objects.bulk_create(
        KeyPoint(story=story, text=f"Key point {k}", position=k)
        for story in archive.only("pk")
        for k in range(5)
    )
    with connection.cursor() as cursor:
        # Fresh planner statistics (and, on PostgreSQL, the visibility map that index-only
        # counts need), as autovacuum keeps them in production.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    stdout.write(
        f"  loaded in {time.perf_counter() - started:.0f} s: {Entry.objects.count():,} "
        f"entries, {Story.objects.count():,} stories, {Person.objects.count():,} people, "
        f"{AuditEvent.objects.count():,} log lines, {KeyPoint.objects.count():,} key points"
    )
    # The story the archive's lists are filtered to: one of a typical size.
    return archive.exclude(pk=first).first()


def run(stdout, *, entries, requests):
    """Time PAGES on the demo data and again with the archive loaded; print the table."""
    stories, people = max(entries // 200, 1), max(entries // 100, 1)
    # The benchmark runs with DEBUG off, in a throwaway database: its logins go with it.
    call_command("load_demo", force=True, verbosity=0, stdout=io.StringIO())
    client = Client()
    client.force_login(get_user_model().objects.get(username="editor"))
    demo_story = Story.objects.get(slug="us-iran-iraq-live-updates")
    stdout.write(
        f"Demo data: {Entry.objects.count():,} entries, {Story.objects.count():,} stories, "
        f"{Person.objects.count():,} people; timing {len(PAGES)} staff pages…"
    )
    demo = time_pages(client, placeholders(demo_story), requests)
    stdout.write(
        f"Loading the archive: {entries:,} entries over {stories:,} stories, {people:,} "
        f"people ({connection.vendor})…"
    )
    story = load_archive(entries, stories, people, stdout)
    archive = time_pages(client, placeholders(story), requests)

    stdout.write(
        f"\nBest of 3 medians of {requests} requests, as a logged-in editor, "
        f"database: {connection.vendor}; goals: archive ≤ {RATIO_GOAL:g}× demo and "
        f"under {MS_GOAL} ms"
    )
    stdout.write(f"  {'page':36} {'demo':>8} {'archive':>8} {'ratio':>6}  verdict")
    for label, _url in PAGES:
        ratio = archive[label] / demo[label]
        met = ratio <= RATIO_GOAL and archive[label] < MS_GOAL
        stdout.write(
            f"  {label:36} {demo[label]:6.1f}ms {archive[label]:6.1f}ms {ratio:5.2f}×  "
            f"{'met' if met else 'MISSED'}"
        )
    searches = sorted(archive[label] for label in SEARCH_PAGES)
    stdout.write(
        f"  search's median time on the archive: {statistics.median(searches):.1f} ms "
        f"({len(SEARCH_PAGES)} searches)"
    )
