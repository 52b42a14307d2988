"""The template side of dates.py and text.py: formatting lives there, registered here."""

from django import template
from django.utils.html import format_html_join

from .. import dates
from ..text import split_paragraphs

register = template.Library()

register.filter("ap_time", dates.ap_time)
register.filter("ap_date", dates.ap_date)
register.filter("ap_datetime", dates.ap_datetime)
register.filter("local_day", dates.local_day)
register.filter("machine_time", dates.machine_time)


@register.simple_tag
def paragraphs(text):
    """Plain text (a story's lede) as escaped paragraphs."""
    return format_html_join("", "<p>{}</p>", ((p,) for p in split_paragraphs(text)))
