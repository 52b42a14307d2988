"""Dates and times: the range anyone may enter, and AP style in the story's zone.

Times are stored in UTC; every place that shows one (templates through the
``liveblog`` template tags, the admin, the editors' log, forms) formats it here. Every
time people set, on any form or in any query parameter, is checked here too.
"""

import zoneinfo
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.utils import dateformat, timezone

# The times anyone may enter: wide enough for any story, far from what Python's
# datetime can hold (years 1 to 9999) or convert to another zone.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
OUT_OF_RANGE = f"That time is out of range: choose one between {EARLIEST.year} and {LATEST.year}."


def in_range(value):
    """Whether ``value`` lies between EARLIEST and LATEST (a naive value is read as UTC)."""
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return EARLIEST <= value <= LATEST


def validate_in_range(value):
    """The validator of every time people set: model fields, hence every form."""
    if value is not None and not in_range(value):
        raise ValidationError(OUT_OF_RANGE, code="out_of_range")


def local(value, tz):
    """``value`` in the zone ``tz`` (a ZoneInfo or its name)."""
    if isinstance(tz, str):
        tz = zoneinfo.ZoneInfo(tz)
    return timezone.localtime(value, tz)


def ap_time(value, tz):
    """The time in the zone ``tz``, AP style: "9:30 p.m.", "12:00 a.m."."""
    if not value:
        return ""
    value = local(value, tz)
    hour = value.hour % 12 or 12
    meridiem = "a.m." if value.hour < 12 else "p.m."
    return f"{hour}:{value.minute:02d} {meridiem}"


def ap_date(value, tz):
    """The date in the zone ``tz``, AP style: "Tuesday, Jan. 7, 2020", "Sept. 1"."""
    if not value:
        return ""
    return dateformat.format(local(value, tz), "l, N j, Y")


def ap_datetime(value, tz):
    """Date and time in the zone ``tz``: "Tuesday, Jan. 7, 2020, 12:00 a.m."."""
    if not value:
        return ""
    return f"{ap_date(value, tz)}, {ap_time(value, tz)}"


def local_day(value, tz):
    """The calendar day in the zone ``tz``, for grouping entries under date headings."""
    return local(value, tz).date()
