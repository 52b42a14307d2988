"""The benchmark commands run through on a small archive and story: their numbers are
read off `make bench`, but a page of theirs that stops answering 200, or a step that
no longer runs with DEBUG off, fails here first."""

import io

import pytest
from django.core.management.base import OutputWrapper
from django.test import override_settings

from liveblog.management import archive_bench, benchmark_stack


@pytest.mark.django_db(transaction=True)  # VACUUM (PostgreSQL) runs outside a transaction
def test_archive_benchmark_times_every_page_and_prints_its_verdict():
    buffer = io.StringIO()
    out = OutputWrapper(buffer)  # as the command's stdout: a line per write
    with override_settings(DEBUG=False, ROOT_URLCONF="liveblog.management.benchmark_urls"):
        archive_bench.run(out, entries=400, requests=1)
    table = buffer.getvalue()
    assert "400 entries over 2 stories, 4 people" in table
    for label, _url in archive_bench.PAGES:
        line = next(line for line in table.splitlines() if line.strip().startswith(label))
        assert line.rstrip().endswith(("met", "MISSED")), line
    assert "search's median time on the archive" in table


@pytest.mark.django_db
def test_cold_render_timing_renders_the_first_page_each_time():
    story = benchmark_stack.make_story("bench", 35)
    assert story.entries.count() == 35
    version = story.version
    with override_settings(DEBUG=False):
        medians, size = benchmark_stack.time_cold_renders(story.slug, 5)
    assert set(medians) == {"change", "eviction"}
    assert all(median > 0 and cpu >= 0 for median, cpu in medians.values())
    # Each "change" published a new version: six renders (one to warm up) of five.
    story.refresh_from_db()
    assert story.version == version + 6
    # Thirty entries' stored HTML: the first page, rendered, not an empty answer.
    assert size > 30 * len("Iran fired more than a dozen")
