"""The template side of dates.py and text.py: formatting lives there, registered here."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

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


@register.simple_tag(takes_context=True)
def stream(context, entries, controls=None):
    """The live stream of ``entries`` (the page's, with_day_headings marking the first of
    each day): a date heading where a day starts, and each entry's stored HTML, made and
    sanitized when the entry was saved (Entry.refresh_html); with ``controls``, the name
    of a template rendered after each entry with it as ``entry`` (the desk's buttons).

    Joined here rather than looped over in a template: on a story page rendered cold,
    the loop was a third of the template's time."""
    include = context.template.engine.get_template(controls) if controls else None
    parts = []
    for entry in entries:
        if entry.day_heading:
            parts.append(format_html('<h2 class="day-heading">{}</h2>', entry.day_heading))
        parts += ("\n", entry.html)
        if include is not None:
            with context.push(entry=entry):
                parts.append(include.render(context))
        parts.append("\n")
    # Safe: headings are escaped above, entries' HTML was sanitized when it was stored.
    return mark_safe("".join(parts))  # noqa: S308
