"""schema.org LiveBlogPosting for a story page, as JSON-LD that cannot break out of
its script element.

What it says of each entry is kept with the entry (``Entry.structured_data``), made by
``entry_posting`` when the change pipeline renders the entry: a page then assembles the
posting from stored pieces, without turning each entry's HTML into text again or
loading its authors.
"""

import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from .text import split_paragraphs

# How a stored posting names its bylines (entry_posting), in the text of every backend.
AUTHOR_KEY = '"author": '
_decoder = json.JSONDecoder()


def summary(text, limit=300):
    first = (split_paragraphs(text) or [""])[0]
    return first if len(first) <= limit else first[: limit - 1].rsplit(" ", 1)[0] + "…"


def entry_posting(entry):
    """The BlogPosting of ``entry``, kept with it when it is rendered. URLs are paths:
    the page makes them absolute with the address it names as its own."""
    return {
        "@type": "BlogPosting",
        "headline": entry.headline,
        "articleBody": entry.text,
        "datePublished": entry.published_at.isoformat(),
        "dateModified": (entry.revised_at or entry.published_at).isoformat(),
        "author": [
            {"@type": "Person", "name": p.name, "url": p.get_absolute_url()}
            for p in entry.authors.all()
        ],
    }


def story_image(story, absolute):
    """The story's picture, as an absolute URL and its alt text: the newest entry photo
    readers may see (``Story.picture``, the stored original: upright, re-encoded, without
    metadata), else the newsroom's default image, LIVEBLOG_DEFAULT_IMAGE (a URL, or a
    static file)."""
    if story.picture:
        from .models import Entry  # models import this module

        storage = Entry._meta.get_field("photo").storage
        return absolute(storage.url(story.picture)), story.picture_alt
    default = settings.LIVEBLOG_DEFAULT_IMAGE
    url = default if "://" in default else absolute(static(default))
    return url, settings.LIVEBLOG_PUBLISHER


def live_blog_posting(story, entries, *, page_url, origin, image):
    """The LiveBlogPosting for ``story`` with a BlogPosting for each entry shown.

    ``entries`` are the page's StreamEntry rows: the text of each one's stored posting
    goes in as it is, its author URLs made absolute with ``origin`` (the page's scheme
    and host) and its own URL added. ``image`` is the story's picture (story_image).
    """
    publisher = {"@type": "Organization", "name": settings.LIVEBLOG_PUBLISHER}
    # A quote inside a JSON string is always escaped, so these only match the stored
    # author objects' own "url" keys, whose values are paths (entry_posting).
    author_path, author_url = '"url": "/', '"url": ' + json.dumps(origin + "/")[:-1]
    updates, authors = [], {}
    for entry in entries:
        # Stored when the entry is rendered: one made without (bulk_create) shows
        # nothing, its stored HTML empty too, until `manage.py render_entries`.
        if not entry.posting or entry.posting == "{}":
            continue
        posting = entry.posting.replace(author_path, author_url)
        # Only the bylines are decoded, for the story's own (below).
        byline = posting.find(AUTHOR_KEY)
        if byline >= 0:
            for author in _decoder.raw_decode(posting, byline + len(AUTHOR_KEY))[0]:
                authors.setdefault(author["url"], author)
        url = json.dumps(f"{page_url}#{entry.anchor}", ensure_ascii=False)
        updates.append(f'{posting[:-1]}, "url": {url}}}')
    data = {
        "@context": "https://schema.org",
        "@type": "LiveBlogPosting",
        "@id": page_url,
        "url": page_url,
        "headline": story.headline,
        "description": summary(story.lede),
        "datePublished": (story.coverage_start or story.created_at).isoformat(),
        "dateModified": story.updated_at.isoformat(),
        "publisher": publisher,
        "image": [image],
        # The story's bylines are those of the entries shown; none: the publisher's.
        "author": list(authors.values()) or [publisher],
    }
    if story.coverage_start:
        data["coverageStartTime"] = story.coverage_start.isoformat()
    if story.is_live:
        # Search engines' live-blog guidance asks for the expected end while live.
        data["coverageEndTime"] = story.expected_coverage_end.isoformat()
    elif story.coverage_end:
        data["coverageEndTime"] = story.coverage_end.isoformat()
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)
    text = f'{text[:-1]}, "liveBlogUpdate": [{", ".join(updates)}]}}'
    # Inside <script>, "</script>" or "<!--" in a string would end or confuse the element:
    # JSON allows any character as a \u escape, so these three never appear literally.
    # (Three replace() calls: str.translate() is several times slower on a whole page.)
    text = text.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")
    # Safe: every "<", ">" and "&" is escaped above, so nothing typed can end the element.
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))  # noqa: S308
