import pytest

from ..factories import EntryFactory, PersonFactory, StoryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def font_size(page, selector):
    return page.evaluate(
        f"parseFloat(getComputedStyle(document.querySelector({selector!r})).fontSize)"
    )


@pytest.mark.parametrize("width", [390, 1366])
def test_the_name_is_larger_than_the_subheading(page, width):
    person = PersonFactory(name="Mark Esper", title="Defense Secretary")
    EntryFactory(story=StoryFactory(), authors=[person], headline="Esper speaks")
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(person.get_absolute_url())
    name = font_size(page, "h1")
    # The section heading is a label: clearly smaller than the name (a sans-serif face
    # looks larger than a serif one of the same size), and no taller on the page.
    assert font_size(page, "#person-updates") <= 0.6 * name
    assert font_size(page, ".person-title") < name
    heights = page.evaluate(
        "['h1', '#person-updates'].map(s => document.querySelector(s).offsetHeight)"
    )
    assert heights[1] < heights[0]
