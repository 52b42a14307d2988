"""Dates and times: the range anyone may enter, and AP style in the story's zone.

Times are stored in UTC; every place that shows one (templates through the
``liveblog`` template tags, the admin, the editors' log, forms) formats it here. Every
time people set, on any form or in any query parameter, is checked here too, and a
time already stored outside that range (older data, a fix made in SQL) is shown as
nothing instead of taking its page down.
"""

import zoneinfo
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import dateformat, timezone

# The times anyone may enter: wide enough for any story, far from what Python's
# datetime can hold (years 1 to 9999) or convert to another zone.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
OUT_OF_RANGE = f"That time is out of range: choose one between {EARLIEST.year} and {LATEST.year}."

# What a stored time beyond Python's years reads as (PostgreSQL keeps 4713 BC to
# 294276 AD), and what any time is clamped to before it is converted to a zone: a day
# inside datetime's limits, so that no zone's offset can carry it past them.
TOO_EARLY = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
TOO_LATE = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)


def in_range(value):
    """Whether ``value`` lies between EARLIEST and LATEST (a naive value is read as UTC)."""
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return EARLIEST <= value <= LATEST


def validate_in_range(value):
    """The validator of every time people set: model fields, hence every form."""
    if value is not None and not in_range(value):
        raise ValidationError(OUT_OF_RANGE, code="out_of_range")


def clamped(value):
    """``value`` (aware) moved, if it must be, to between TOO_EARLY and TOO_LATE."""
    return min(max(value, TOO_EARLY), TOO_LATE)


def local(value, tz):
    """``value`` in the zone ``tz`` (a ZoneInfo or its name). Never raises: a time near
    the ends of Python's range is clamped first."""
    if isinstance(tz, str):
        tz = zoneinfo.ZoneInfo(tz)
    return timezone.localtime(clamped(value), tz)


def machine_time(value, tz):
    """The time for a ``datetime`` attribute, in the zone ``tz``: ISO 8601 to the second,
    "2020-01-06T21:52:00-05:00" (HTML allows at most three digits of a second, and
    nobody reads finer); "" for no time or one out of range."""
    if not value or not in_range(value):
        return ""
    return local(value, tz).isoformat(timespec="seconds")


def ap_time(value, tz):
    """The time in the zone ``tz``, AP style: "9:30 p.m.", "12:00 a.m."; "" for no
    time or one out of range."""
    if not value or not in_range(value):
        return ""
    value = local(value, tz)
    hour = value.hour % 12 or 12
    meridiem = "a.m." if value.hour < 12 else "p.m."
    return f"{hour}:{value.minute:02d} {meridiem}"


def ap_date(value, tz):
    """The date in the zone ``tz``, AP style: "Tuesday, Jan. 7, 2020", "Sept. 1"; "" for
    no time or one out of range."""
    if not value or not in_range(value):
        return ""
    return dateformat.format(local(value, tz), "l, N j, Y")


def ap_datetime(value, tz):
    """Date and time in the zone ``tz``: "Tuesday, Jan. 7, 2020, 12:00 a.m."; "" for no
    time or one out of range."""
    if not value or not in_range(value):
        return ""
    return f"{ap_date(value, tz)}, {ap_time(value, tz)}"


def wall_clock(naive, tz, fold=None):
    """The naive time ``naive`` as read on a clock in the zone ``tz``, in UTC.

    The night clocks go back, an hour happens twice: unless ``fold`` (0, the first; 1,
    the second) says which, that refuses with the choice in words (``fold_choices``).
    The night they go forward, an hour never happens: that refuses in words too.
    """
    if not in_range(naive):
        # Refused by the validators in words of their own; converting a time near
        # Python's limits could overflow.
        return naive.replace(tzinfo=tz)
    first, second = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    when = f"{ap_time(first, tz)} on {dateformat.format(first, 'l, N j, Y')}"
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise ValidationError(
            f"There is no {when} in {tz.key}: the clocks go forward an hour that night. "
            "Choose a time before or after the hour they skip.",
            code="nonexistent_time",
        )
    if fold in (0, 1):
        # In UTC: Python never finds a time of the repeated hour equal to one in
        # another zone, whatever its fold.
        return naive.replace(tzinfo=tz, fold=fold).astimezone(UTC)
    first_label, second_label = (label for _, label in fold_choices(naive, tz))
    raise ValidationError(
        f"{when} happens twice in {tz.key}, when the clocks go back: choose "
        f"“{first_label}” or “{second_label}”.",
        code="ambiguous_time",
    )


def fold_choices(naive, tz):
    """The two readings of a time that happens twice, as (fold, words) pairs:
    (0, "1:30 a.m. EDT (first)"), (1, "1:30 a.m. EST (second)")."""
    readings = [naive.replace(tzinfo=tz, fold=fold) for fold in (0, 1)]
    return [
        (fold, f"{ap_time(aware, tz)} {aware.tzname()} ({'first' if fold == 0 else 'second'})")
        for fold, aware in enumerate(readings)
    ]


def local_day(value, tz):
    """The calendar day in the zone ``tz``, for grouping entries under date headings."""
    return local(value, tz).date()


def read_out_of_range_times(sender, connection, **kwargs):
    """Let a new PostgreSQL connection read any stored time (a connection_created receiver).

    psycopg2 raises while *reading* a timestamp beyond Python's years (10000, or BC),
    so one such value would fail every query that reads its row: every page listing the
    story, and the admin page that could fix it. Such a time reads as TOO_LATE or
    TOO_EARLY instead, and every time is clamped between them, so that it can be shown
    in any zone; being out of range, it is then shown as nothing and refused by forms.
    """
    if connection.vendor != "postgresql":
        return
    import psycopg2.extensions as pg  # only PostgreSQL needs it

    if not isinstance(connection.connection, pg.connection):
        return  # psycopg 3 reads through its own loaders; the project uses psycopg2
    naive = (TOO_EARLY.replace(tzinfo=None), TOO_LATE.replace(tzinfo=None))
    # timestamptz (every column) and timestamp (what truncating one in a zone gives)
    for default, (early, late) in (
        (pg.PYDATETIMETZ, (TOO_EARLY, TOO_LATE)),
        (pg.PYDATETIME, naive),
    ):
        cast = _clamping(default, early, late)
        pg.register_type(pg.new_type(default.values, default.name, cast), connection.connection)


def _clamping(default, early, late):
    """psycopg2's own cast ``default``, its result clamped between ``early`` and ``late``."""

    def cast(value, cursor):
        if value is None:
            return None
        try:
            return min(max(default(value, cursor), early), late)
        except ValueError:  # a year past 9999, or before Christ ("0001-01-01 ... BC")
            return early if value.endswith(" BC") else late

    return cast
