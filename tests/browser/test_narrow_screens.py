"""Nothing a reporter types makes a page wider than a phone's screen."""

import pytest

from ..factories import EntryFactory, KeyPointFactory, PersonFactory, StoryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_URL = "https://example.com/" + "a1b2c3d4e5/" * 11 + "pages.htm"  # 150 characters
LONG_WORD = "x" * 300

# The widest the document or any article, figure or heading gets, against the viewport.
WIDTHS = """() => {
  const widths = [document.documentElement.scrollWidth];
  document.querySelectorAll("article, figure, h1, h2, h3, .lede, .key-points, header")
    .forEach((el) => widths.push(el.getBoundingClientRect().right));
  return {widest: Math.max(...widths), viewport: window.innerWidth};
}"""


@pytest.fixture
def long_words():
    assert len(LONG_URL) == 150
    person = PersonFactory(name="Reporter " + LONG_WORD, title=LONG_WORD, bio=LONG_URL)
    story = StoryFactory(
        headline="Headline " + LONG_WORD, lede=f"See {LONG_URL} and {LONG_WORD}.", slug="wide"
    )
    EntryFactory(
        story=story,
        headline=LONG_WORD,
        dateline=LONG_WORD[:80],
        body=f"Read {LONG_URL}\n\n{LONG_WORD}\n\n[{LONG_WORD}]({LONG_URL})",
        authors=[person],
    )
    KeyPointFactory(story=story, text=f"{LONG_WORD} {LONG_URL}")
    return story, person


@pytest.mark.parametrize("width", [320, 390])
def test_long_words_and_urls_never_widen_the_page(page, long_words, width):
    story, person = long_words
    page.set_viewport_size({"width": width, "height": 800})
    for url in [
        "/",
        story.get_absolute_url(),
        f"{story.get_absolute_url()}embed/",
        person.get_absolute_url(),
    ]:
        page.goto(url)
        measured = page.evaluate(WIDTHS)
        assert measured["viewport"] == width
        assert measured["widest"] <= width, f"{url} is {measured['widest']} px wide at {width} px"
