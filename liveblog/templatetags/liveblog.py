import re
import zoneinfo

from django import template
from django.utils import dateformat, timezone
from django.utils.html import format_html, format_html_join

register = template.Library()

PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def _local(value, tz):
    if isinstance(tz, str):
        tz = zoneinfo.ZoneInfo(tz)
    return timezone.localtime(value, tz)


@register.filter
def ap_time(value, tz):
    """The time in the zone ``tz``, AP style as our pages print it: "9:30 p.m.", "12:00 a.m."."""
    if not value:
        return ""
    local = _local(value, tz)
    hour = local.hour % 12 or 12
    meridiem = "a.m." if local.hour < 12 else "p.m."
    return f"{hour}:{local.minute:02d} {meridiem}"


@register.filter
def ap_date(value, tz):
    """The date in the zone ``tz``, AP style: "Tuesday, Jan. 7, 2020", "Sept. 1"."""
    if not value:
        return ""
    return dateformat.format(_local(value, tz), "l, N j, Y")


@register.filter
def local_day(value, tz):
    """The calendar day in the zone ``tz``, for grouping entries under date headings."""
    return _local(value, tz).date()


def split_paragraphs(text):
    return [p.strip() for p in PARAGRAPH_BREAK.split(text.replace("\r\n", "\n")) if p.strip()]


@register.simple_tag
def paragraphs(text, dateline=""):
    """Plain text as escaped paragraphs; a dateline opens the first one ("BAGHDAD — ...")."""
    parts = split_paragraphs(text)
    if not parts:
        return ""
    first = parts[0]
    if dateline:
        first_html = format_html('<p><span class="dateline">{} —</span> {}</p>', dateline, first)
    else:
        first_html = format_html("<p>{}</p>", first)
    rest = format_html_join("", "<p>{}</p>", ((p,) for p in parts[1:]))
    return first_html + rest
