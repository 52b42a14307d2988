"""The public pages: the front page, a story, an entry's permalink, the embed, a person,
and robots.txt. The live-updates endpoint is in updates.py, the staff previews in
previews.py."""

from csp.constants import SELF
from csp.decorators import csp_replace
from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from .changes import cached_version, remember_version
from .http import bad_request, page_max_age, public_cache
from .models import Entry, Person, Story
from .pagination import page_of_public_entries
from .stream import STREAM_FIELDS, BadReading, Reading, render_story, stream_context
from .structured_data import summary

# A rendered first page stays until its version is superseded, or this many seconds.
PAGE_RENDER_TIMEOUT = 10 * 60


@require_GET
@public_cache(page_max_age)
def front_page(request):
    stories = Story.objects.for_front_page()[:50]
    return render(request, "liveblog/front.html", {"stories": stories})


@require_GET
@public_cache(page_max_age)
def story_page(request, slug):
    try:
        reading = Reading.from_query(request.GET)
    except BadReading as e:
        return bad_request(str(e))
    if reading.cursor is not None:
        story = get_object_or_404(Story.objects.public(), slug=slug)
        return render_story(request, story, before=reading.cursor, reading=reading)

    # The first page is what a spike of readers asks for: render it once per version.
    # The version is only cached for public stories, so a draft never comes from here.
    version = cached_version(slug)
    if version is not None:
        body = cache.get(_page_key(request, slug, version, reading))
        if body is not None:
            return HttpResponse(body)
    story = get_object_or_404(Story.objects.public(), slug=slug)
    story.release_due_entries()
    response = render_story(request, story, before=None, reading=reading)
    # The page was read after the story row, so it shows at least this version: a
    # reader polling from it may see a change twice (harmless), never miss one.
    cache.set(
        _page_key(request, slug, story.version, reading), response.content, PAGE_RENDER_TIMEOUT
    )
    remember_version(story)
    return response


def _page_key(request, slug, version, reading):
    # The page holds its absolute canonical URL, so the address it was asked at counts.
    return f"liveblog:page:{slug}:{version}:{reading.cache_key}:{request.build_absolute_uri('/')}"


@require_GET
@public_cache(page_max_age)
def entry_page(request, slug, pk):
    """An entry's permalink: the story's stream from that entry down, with it at the top."""
    entry = get_object_or_404(
        Entry.objects.public().select_related("story").defer("html"), story__slug=slug, pk=pk
    )
    entry.story.release_due_entries()
    # Shared, the permalink previews this entry, not the top of the story.
    share = {
        "title": entry.headline,
        "description": summary(entry.text),
        "url": request.build_absolute_uri(entry.get_absolute_url()),
    }
    photo = entry.photo_sources()
    if photo:
        share["image"] = request.build_absolute_uri(photo["src"])
        share["image_alt"] = entry.photo_alt
    return render_story(
        request, entry.story, before=(entry.published_at, entry.pk), inclusive=True, share=share
    )


@require_GET
@public_cache(page_max_age)
@xframe_options_exempt
def embed(request, slug):
    """The story's key points and live stream without the site around them, for partner
    sites to frame: the one view that allows framing, and only by configured origins."""
    # csp_replace takes its policy when it wraps a view, and the origins are a setting,
    # read per request: so it wraps the render here, not the module's view.
    frameable = csp_replace({"frame-ancestors": [SELF, *settings.LIVEBLOG_EMBED_ORIGINS]})
    return frameable(_render_embed)(request, slug)


def _render_embed(request, slug):
    story = get_object_or_404(Story.objects.public(), slug=slug)
    story.release_due_entries()
    entries, older = page_of_public_entries(
        story.entries.only(*STREAM_FIELDS), size=settings.LIVEBLOG_PAGE_SIZE
    )
    return render(request, "liveblog/embed.html", stream_context(story, entries, older))


@require_GET
@public_cache(page_max_age)
def person_page(request, person_slug):
    person = get_object_or_404(Person, slug=person_slug)
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


@require_GET
@public_cache(60 * 60)
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /preview/",
        "Disallow: /api/",
        f"Sitemap: {request.build_absolute_uri('/sitemap.xml')}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")
