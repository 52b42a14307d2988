from django.conf import settings
from django.db.models import Q
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render

from .models import Entry, KeyPoint, Person, Story
from .pagination import BadCursor, decode_cursor, entries_page

# What the stream of a page needs: the stored HTML and what the date headings group by.
STREAM_FIELDS = ("id", "story_id", "published_at", "html")


def front_page(request):
    stories = Story.objects.for_front_page()[:50]
    return render(request, "liveblog/front.html", {"stories": stories})


def story_page(request, slug):
    story = get_object_or_404(Story.objects.public(), slug=slug)
    before = None
    if "before" in request.GET:
        try:
            before = decode_cursor(request.GET["before"])
        except BadCursor as e:
            return HttpResponseBadRequest(
                f"Bad “before” parameter: {e}.", content_type="text/plain"
            )
    return _render_story(request, story, before=before)


def entry_page(request, slug, pk):
    """An entry's permalink: the story's stream from that entry down, with it at the top."""
    entry = get_object_or_404(
        Entry.objects.public().select_related("story").defer("body", "html"),
        story__slug=slug,
        pk=pk,
    )
    return _render_story(
        request, entry.story, before=(entry.published_at, entry.pk), inclusive=True
    )


def _render_story(request, story, *, before, inclusive=False):
    entries, older = entries_page(
        story.entries.public().only(*STREAM_FIELDS),
        size=settings.LIVEBLOG_PAGE_SIZE,
        before=before,
        inclusive=inclusive,
    )
    story_url = story.get_absolute_url()
    context = {
        "story": story,
        "key_points": KeyPoint.objects.public().filter(story=story),
        "entries": entries,
        "older_url": f"{story_url}?before={older}" if older else None,
        "is_first_page": before is None,
        "canonical_url": request.build_absolute_uri(story_url),
    }
    return render(request, "liveblog/story.html", context)


def person_page(request, slug):
    person = get_object_or_404(Person, slug=slug)
    wrote_or_named = Q(
        pk__in=Entry.authors.through.objects.filter(person=person).values("entry")
    ) | Q(pk__in=Entry.people.through.objects.filter(person=person).values("entry"))
    entries = (
        Entry.objects.public()
        .filter(wrote_or_named)
        .select_related("story")
        .only(*STREAM_FIELDS, "story__headline", "story__slug")
        .newest_first()[:50]
    )
    return render(request, "liveblog/person.html", {"person": person, "entries": entries})
