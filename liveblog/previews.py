"""Staff previews: an entry, or a whole story with its drafts, as readers will see them.
Never cached, never indexed."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache

from .models import Entry, Story
from .permissions import can_edit_entry, is_editor


@never_cache
@login_required
def entry_preview(request, slug, pk):
    """An entry as readers will see it, whatever its state, for editors and its authors."""
    entry = get_object_or_404(Entry.objects.select_related("story"), story__slug=slug, pk=pk)
    if not can_edit_entry(request.user, entry):
        raise Http404
    context = {"story": entry.story, "entries": [entry], "entry_html": entry.render_html()}
    return _preview_response(render(request, "liveblog/preview.html", context))


@never_cache
@login_required
def story_preview(request, slug):
    """A story with every entry, drafts and scheduled ones marked, for editors."""
    if not is_editor(request.user):
        raise PermissionDenied
    story = get_object_or_404(Story, slug=slug)
    entries = story.entries.newest_first()[: settings.LIVEBLOG_PAGE_SIZE]
    context = {
        "story": story,
        "entries": entries,
        "key_points": story.key_points.filter(pinned=True),
    }
    return _preview_response(render(request, "liveblog/preview.html", context))


def _preview_response(response):
    response["X-Robots-Tag"] = "noindex"
    return response
