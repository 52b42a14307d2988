"""Reporters' Markdown, rendered once when an entry is saved and sanitized with nh3.

The subset is what a live update needs: paragraphs, bold, italics, links, lists and
block quotes (how a tweet or a statement is quoted). Raw HTML is not Markdown here:
it shows as typed. Whatever the renderer produces then passes nh3's allow-list, so a
bug in either one alone cannot put a script on the page.
"""

import html
import re

import nh3
from django.utils.html import format_html, strip_tags
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt

MARKDOWN = MarkdownIt("zero", {"html": False}).enable(
    ["emphasis", "link", "autolink", "list", "blockquote", "escape", "newline"]
)

PARAGRAPH_BREAK = re.compile(r"\n\s*\n")

ALLOWED_TAGS = {"p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}


def sanitize(html):
    """Keep only the tags, attributes and URL schemes of our Markdown subset; links
    get rel="noopener". Sanitizing the result again changes nothing."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="noopener",
        strip_comments=True,
    )


def render_markdown(source):
    """Safe HTML for a reporter's Markdown."""
    return mark_safe(sanitize(MARKDOWN.render(source)))  # noqa: S308 - sanitized just above


def with_dateline(body_html, dateline):
    """Open the first paragraph with the dateline, as in "BAGHDAD — Iraq's ..."."""
    if not dateline:
        return mark_safe(body_html)  # noqa: S308 - stored sanitized HTML
    opening = format_html('<span class="dateline">{} —</span> ', dateline)
    if body_html.startswith("<p>"):
        return mark_safe(f"<p>{opening}{body_html[3:]}")  # noqa: S308 - both parts are safe
    return mark_safe(f"<p>{opening}</p>{body_html}")  # noqa: S308 - both parts are safe


def to_text(body_html):
    """Plain text of rendered HTML, paragraphs separated by blank lines."""
    text = strip_tags(body_html.replace("</p>", "</p>\n\n").replace("</li>", "</li>\n"))
    return re.sub(r"\n{3,}", "\n\n", html.unescape(text)).strip()


def split_paragraphs(text):
    """Plain text split at blank lines, each paragraph stripped."""
    return [p.strip() for p in PARAGRAPH_BREAK.split(text.replace("\r\n", "\n")) if p.strip()]
