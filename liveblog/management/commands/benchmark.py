"""Measure the public views against a bare Django view, in one run, as ratios.

Runs on a throwaway test database (created and destroyed here) through Django's
full request handler and middleware, so the figures compare like with like on this
machine whatever its speed. ``python manage.py benchmark`` (``make bench``).
"""

import statistics
import time
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.core.management import BaseCommand
from django.db import connection
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import include, path

from liveblog.models import Entry, Story, version_cache_key


def bare_view(request):
    return HttpResponse("ok")


# This module doubles as the URLconf of the run: the product's URLs, then the bare view,
# so that the bare view is routed through the same URL table as the product's views.
urlpatterns = [path("", include("newsroom.urls")), path("bare/", bare_view)]

START = datetime(2020, 1, 6, 21, 0, tzinfo=UTC)


def make_story(slug, count):
    story = Story.objects.create(headline=f"Benchmark {slug}", slug=slug, status=Story.Status.LIVE)
    template = Entry(story=story, headline="Headline", dateline="WASHINGTON", body="Body.\n\nMore.")
    template.pk = 0
    html = template.render_html()
    batch = []
    for n in range(count):
        published_at = START + timedelta(seconds=n)
        batch.append(
            Entry(
                story=story,
                headline=f"Update {n}",
                body="Body.",
                published_at=published_at,
                html=html,
            )
        )
        if len(batch) == 5000:
            Entry.objects.bulk_create(batch)
            batch = []
    Entry.objects.bulk_create(batch)
    Story.objects.filter(pk=story.pk).update(version=count)
    return story


class Command(BaseCommand):
    help = "Benchmark the story page and the live-updates endpoint; print ratios against goals."

    def add_arguments(self, parser):
        parser.add_argument("--entries", type=int, default=100_000, help="size of the big story")
        parser.add_argument("--requests", type=int, default=300, help="requests per measurement")

    def handle(self, *args, entries, requests, **options):
        old_name = connection.creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False
        )
        try:
            with override_settings(
                ROOT_URLCONF=__name__, DEBUG=False, ALLOWED_HOSTS=["testserver"]
            ):
                self.run(entries, requests)
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)

    def run(self, entries, requests):
        self.stdout.write(f"Building a 100-entry story and a {entries:,}-entry story…")
        small = make_story("small", 100)
        big = make_story("big", entries)
        deep = Entry.objects.filter(story=big).order_by("published_at", "id")[entries // 100]
        client = Client()

        def per_request(url, expect=200):
            assert client.get(url).status_code == expect, url  # noqa: S101 - a benchmark, not a test
            times = []
            for _ in range(requests):
                started = time.perf_counter()
                client.get(url)
                times.append(time.perf_counter() - started)
            return statistics.median(times)

        cache.set(version_cache_key(big.slug), big.version, None)
        bare = per_request("/bare/")
        small_page = per_request(small.get_absolute_url())
        big_page = per_request(big.get_absolute_url())
        deep_page = per_request(f"{big.get_absolute_url()}?before={deep.cursor}")
        poll_304 = per_request(f"/stories/{big.slug}/updates/?since={big.version}", expect=304)

        rows = [
            (
                "story page, 100,000-entry story / 100-entry story (time)",
                big_page / small_page,
                "≤ 1.1",
            ),
            ("304 poll / bare Django view (throughput)", bare / poll_304, "≥ 0.9"),
            ("story page, first page / bare Django view (throughput)", bare / big_page, "≥ 0.5"),
            ("older page deep in the story / first page (time)", deep_page / big_page, "≤ 1.5"),
        ]
        self.stdout.write(f"\nMedian of {requests} requests each, database: {connection.vendor}")
        self.stdout.write(
            f"  bare view {bare * 1e6:.0f} µs, story page {big_page * 1e6:.0f} µs, "
            f"deep page {deep_page * 1e6:.0f} µs, 304 poll {poll_304 * 1e6:.0f} µs"
        )
        for label, ratio, goal in rows:
            bound = float(goal.split()[1])
            met = ratio <= bound if goal.startswith("≤") else ratio >= bound
            self.stdout.write(
                f"  {label:62} {ratio:5.2f}  goal {goal}  {'met' if met else 'MISSED'}"
            )
