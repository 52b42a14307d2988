"""Keyset cursors for a story's stream: (time shown, id) of the last entry on a page.

A cursor is "<microseconds since the epoch>.<entry id>", so it is stable when entries
are added above it and needs no OFFSET, however deep a reader goes.
"""

import re
from datetime import UTC, datetime, timedelta

from .dates import EARLIEST, LATEST, in_range

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# ASCII digits only: str.isdigit() also accepts "²" and "①", which int() refuses.
CURSOR = re.compile(r"(-?[0-9]{1,20})\.([0-9]{1,19})")


class BadCursor(ValueError):
    pass


def encode_cursor(entry):
    return encode_position(entry.published_at, entry.pk)


def encode_position(when, pk):
    """The cursor of the row ``pk`` at the time ``when``: what decode_cursor reads."""
    return f"{(when - EPOCH) // timedelta(microseconds=1)}.{pk}"


def decode_cursor(value):
    """Return (published_at, pk) for a cursor, or raise BadCursor saying what is wrong."""
    match = CURSOR.fullmatch(value)
    if match is None:
        raise BadCursor("expected “<microseconds>.<entry id>”")
    micros, pk = match.groups()
    try:
        published_at = EPOCH + timedelta(microseconds=int(micros))
    except OverflowError:
        published_at = None
    if published_at is None or not in_range(published_at):
        raise BadCursor(f"the time is out of range (years {EARLIEST.year} to {LATEST.year})")
    if not 0 < int(pk) < 2**63:
        raise BadCursor("the entry id is out of range")
    return published_at, int(pk)


def page_of_public_entries(
    entries, *, size, before=None, after=None, inclusive=False, oldest_first=False, row=None
):
    """One page of the public ones among ``entries``, newest first, at or before the
    cursor ``before``, and the next cursor; with ``oldest_first``, oldest first, at or
    after the cursor ``after``.

    It applies the visibility rule (``public()``) itself, after the cursor's condition:
    SQLite starts its index scan from the first of the two upper bounds on the time, and
    the cursor's is the tight one (public() bounds it by now). Fetches one entry more
    than it shows to know whether an older page exists. ``row``, if given, makes each
    row read (of ``values_list``) into the entry the page holds.
    """
    if oldest_first:
        entries = (
            entries.at_or_after(*after, inclusive=inclusive)
            if after is not None
            else entries.oldest_first()
        )
    elif before is not None:
        entries = entries.at_or_before(*before, inclusive=inclusive)
    else:
        entries = entries.newest_first()
    page = list(entries.public()[: size + 1])
    if row is not None:
        page = [row(values) for values in page]
    return split_page(page, size)


def split_page(page, size):
    """The ``size`` entries to show of ``page`` (read with one more than it shows), and
    the cursor of the next page, or None when that one more was not there."""
    more = encode_cursor(page[size - 1]) if len(page) > size else None
    return page[:size], more
