import re

import pytest

from liveblog.templatetags.liveblog import paragraphs
from liveblog.text import render_markdown, sanitize, to_text, with_dateline

XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=//evil.example></iframe>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    "<style>body{display:none}</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    "**bold <img src=x onerror=alert(1)>**",
    "> <script>alert(1)</script>",
    "- [x](javascript:alert(1))",
    '<https://example.com/"onmouseover="alert(1)>',
    '[x](https://example.com/"onmouseover="alert(1))',
    '![img](https://example.com/x.png" onerror="alert(1))',
    "<!-- <script>alert(1)</script> -->",
]
# Dangerous only as markup: a tag we do not allow, an event handler or style attribute,
# or a link to a script or data URL. The same words as escaped text are harmless.
DANGER = re.compile(
    r"<(script|iframe|svg|math|style|img|form|noscript)"
    r"|<[^>]*\s(on\w+|style)\s*="
    r"|<a[^>]*href=\"\s*(javascript|vbscript|data):",
    re.I,
)


@pytest.mark.parametrize("payload", XSS)
def test_hostile_markdown_is_rendered_inert(payload):
    html = render_markdown(payload)
    assert not DANGER.search(html), html


@pytest.mark.parametrize("payload", XSS)
def test_sanitizing_twice_changes_nothing(payload):
    html = render_markdown(payload)
    assert sanitize(html) == html


@pytest.mark.parametrize("payload", [p for p in XSS if p.startswith("<")])
def test_raw_html_through_the_sanitizer_alone_is_inert(payload):
    assert not DANGER.search(sanitize(payload))


def test_the_markdown_subset_renders():
    html = render_markdown(
        "A **bold** and *italic* [link](https://example.com).\n\n"
        "> “We are ready,” the statement said.\n\n- one\n- two\n\n1. first\n2. second"
    )
    assert "<strong>bold</strong>" in html
    assert "<em>italic</em>" in html
    assert '<a href="https://example.com" rel="noopener">link</a>' in html
    assert "<blockquote>\n<p>“We are ready,” the statement said.</p>\n</blockquote>" in html
    assert "<ul>\n<li>one</li>" in html
    assert "<ol>\n<li>first</li>" in html


def test_headings_images_and_code_are_not_part_of_the_subset():
    html = render_markdown("# Title\n\n![photo](https://example.com/p.png)\n\n    code")
    assert "<h1>" not in html and "<img" not in html and "<code>" not in html


def test_raw_html_shows_as_typed():
    assert (
        render_markdown("1 < 2 & <b>bold</b>") == "<p>1 &lt; 2 &amp; &lt;b&gt;bold&lt;/b&gt;</p>\n"
    )


def test_the_dateline_opens_the_first_paragraph():
    html = with_dateline(render_markdown("Iraq's prime minister met the ambassador."), "BAGHDAD")
    assert html.startswith('<p><span class="dateline">BAGHDAD —</span> Iraq')


def test_a_dateline_is_escaped():
    html = with_dateline("<p>x</p>", "<script>")
    assert "<script>" not in html


def test_plain_text_keeps_paragraphs():
    assert to_text(render_markdown("One **a** & B\n\nTwo")) == "One a & B\n\nTwo"


def test_paragraphs_split_at_blank_lines():
    assert paragraphs("First.\r\n\r\nSecond.\n \nThird.") == (
        "<p>First.</p><p>Second.</p><p>Third.</p>"
    )


def test_paragraphs_escape_what_was_typed():
    html = paragraphs("<script>alert(1)</script>")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
