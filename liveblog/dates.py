"""Dates and times as readers see them: AP style, in the story's time zone.

Times are stored in UTC; every place that shows one (templates through the
``liveblog`` template tags, the admin, the editors' log, forms) formats it here.
"""

import zoneinfo

from django.utils import dateformat, timezone


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
