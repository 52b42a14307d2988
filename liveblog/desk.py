"""The live desk: one staff page per story for posting the next update fast.

It only builds on what the rest of the app has: entries are saved through the model,
which announces them to readers (changes.py), the preview is the public entry partial,
and colleagues' entries arrive through the same live-updates endpoint as readers'.
"""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.db.models import Max
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import permissions, search, services
from .forms import DeskEntryForm, is_id
from .models import Entry, Story
from .stream import STREAM_FIELDS, with_day_headings

# Search results the desk shows, newest first: more are a narrower search away.
DESK_SEARCH_RESULTS = 20

# What the compose form's buttons send. Anything else is a crafted request: refused, not
# guessed at, since a guess could publish what its author meant to keep a draft.
COMPOSE_ACTIONS = ("publish", "draft", "preview")
# How many waiting readers' questions the desk lists at once; the count says how many wait.
QUESTIONS_SHOWN = 50


# What the desk of an ended story says, to the page and to the desk's script.
ENDED = "This story has ended: nothing more can be posted to it."


def get_story_for_desk(request, slug):
    """The story whose desk ``slug`` names: 403 unless the user may post entries, 404
    for a story that is missing. The caller checks whether it has ended."""
    # Permission first: it does not depend on the story, and a login that may not post
    # learns nothing about which stories exist.
    if not permissions.can_post_entries(request.user):
        raise PermissionDenied
    return get_object_or_404(Story, slug=slug)


def render_ended(request, story, *, status, typed=None):
    """The desk of an ended story: it says so (409 to a post, which can never succeed
    by trying again), shows what the post carried so nothing typed is lost, and lets an
    editor reopen the story."""
    context = {
        "story": story,
        "message": ENDED,
        "typed": typed,
        "can_reopen": permissions.can_reopen_story(request.user),
    }
    return render(request, "liveblog/desk_ended.html", context, status=status)


@never_cache
@login_required
def desk(request, slug):
    story = get_story_for_desk(request, slug)
    if story.status == Story.Status.ENDED:
        return ended_desk(request, story)
    with timezone.override(story.tzinfo):
        if request.method == "POST":
            return post_entry(request, story)
        person = getattr(request.user, "person", None)
        initial = {"submission_id": uuid.uuid4(), "authors": [person.pk] if person else []}
        question = question_to_answer(request, story, request.GET.get("answer"))
        if question is not None:
            initial.update(answers=question.pk, body=services.submission_answer_body(question))
        form = DeskEntryForm(story=story, user=request.user, initial=initial)
        return render_desk(request, story, form)


def ended_desk(request, story):
    if request.method != "POST":
        return render_ended(request, story, status=200)
    if request.POST.get("action") != "reopen":
        typed = {name: request.POST.get(name, "") for name in ("headline", "dateline", "body")}
        return render_ended(request, story, status=409, typed=typed)
    if not permissions.can_reopen_story(request.user):
        raise PermissionDenied
    services.story_reopen(story=story, user=request.user)
    messages.success(request, "Reopened: the story is live again.")
    return redirect("liveblog:desk", story.slug)


def question_to_answer(request, story, pk):
    """The waiting reader's question ``pk`` of ``story``, if this user may answer it."""
    if not pk or not is_id(pk) or not permissions.can_answer_questions(request.user, story):
        return None
    return story.submissions.awaiting().filter(pk=pk).first()


def post_entry(request, story):
    form = DeskEntryForm(request.POST, request.FILES, story=story, user=request.user)
    action = request.POST.get("action", "publish")
    valid = form.is_valid()
    if action not in COMPOSE_ACTIONS:
        form.add_error(None, "This form can publish, save a draft or preview: nothing was posted.")
        valid = False
    if not valid:
        return render_desk(request, story, form, status=400)
    if action == "preview":
        return render_desk(request, story, form, preview=render_preview(form))
    submission_id = form.cleaned_data["submission_id"]
    if Entry.objects.filter(submission_id=submission_id).exists():
        messages.info(request, "That entry was already posted: it was not posted twice.")
        return redirect("liveblog:desk", story.slug)
    entry = form.save(commit=False)
    entry.story = story
    entry.submission_id = submission_id
    entry.status = Entry.Status.DRAFT if action == "draft" else Entry.Status.PUBLISHED
    question = question_to_answer(request, story, form.cleaned_data.get("answers"))
    try:
        services.entry_create(entry=entry, user=request.user, authors=form.cleaned_data["authors"])
        if question is not None:
            services.submission_answer(submission=question, entry=entry, user=request.user)
    except IntegrityError:
        # The same form sent twice at once: the unique token let only one through.
        messages.info(request, "That entry was already posted: it was not posted twice.")
        return redirect("liveblog:desk", story.slug)
    messages.success(request, f"{entry.state_label}: “{entry.headline}”.")
    return redirect("liveblog:desk", story.slug)


def render_preview(form):
    entry = form.preview_entry()
    bylines = list(form.cleaned_data.get("authors") or [])
    return render_to_string(
        "liveblog/_entry.html", {"entry": entry, "story": form.story, "bylines": bylines}
    )


@never_cache
@login_required
@require_POST
def preview(request, slug):
    """The entry being written, rendered by the public partial (the desk's script asks)."""
    story = get_story_for_desk(request, slug)
    if story.status == Story.Status.ENDED:
        return HttpResponse(ENDED, status=409, content_type="text/plain")
    with timezone.override(story.tzinfo):
        data = request.POST.copy()
        data.setdefault("submission_id", str(uuid.uuid4()))
        form = DeskEntryForm(data, story=story, user=request.user)
        # Preview what can be shown even while the form is incomplete, but no more of a
        # field than it may hold: the form says what is too long, and a huge paste is
        # not rendered on every keystroke.
        form.is_valid()
        limits = {"headline": 300, "dateline": 80, "body": settings.LIVEBLOG_MAX_BODY_CHARS}
        for name, limit in limits.items():
            form.cleaned_data.setdefault(name, data.get(name, "")[:limit])
        form.cleaned_data.setdefault("published_at", timezone.now())
        return HttpResponse(render_preview(form))


def queue_context(story):
    """The story's waiting readers' questions, newest first, for the desk."""
    waiting = story.submissions.awaiting()
    return {
        "story": story,
        "questions": waiting.order_by("-created_at", "-id")[:QUESTIONS_SHOWN],
        "questions_waiting": waiting.count(),
    }


def render_desk(request, story, form, *, status=200, preview=None):
    public = (
        story.entries.public().only(*STREAM_FIELDS).newest_first()[: settings.LIVEBLOG_PAGE_SIZE]
    )
    not_public = story.entries.exclude(pk__in=story.entries.public().values("pk")).newest_first()[
        :20
    ]
    datelines = (
        story.entries.exclude(dateline="")
        .values("dateline")
        .annotate(last=Max("published_at"))
        .order_by("-last")
        .values_list("dateline", flat=True)[:8]
    )
    found, search_query, search_message = staff_search(request, story)
    editable = permissions.entries_editable_by(request.user, story.entries.all())
    editable_ids = set(editable.values_list("pk", flat=True))
    context = {
        "story": story,
        "form": form,
        "preview": preview,
        "entries": with_day_headings(list(public), story.tzinfo),
        "not_public": not_public,
        "datelines": list(datelines),
        "editable": editable_ids,
        "key_points": story.key_points.order_by("position", "id"),
        "key_point_entries": set(
            story.key_points.exclude(entry=None).values_list("entry_id", flat=True)
        ),
        "can_edit_key_points": permissions.can_edit_key_points(request.user),
        # Stands for the entries that arrive live, in the template of their controls.
        "arriving_entry": Entry(pk=0, story=story),
        "poll_interval": settings.LIVEBLOG_POLL_INTERVAL,
        "search_query": search_query,
        "search_message": search_message,
        "search_results": found,
    }
    if permissions.can_answer_questions(request.user, story):
        context.update(queue_context(story), can_answer_questions=True)
    return render(request, "liveblog/desk.html", context, status=status)


def staff_search(request, story):
    """The desk's search of the story's entries (``?q=``), drafts and scheduled ones
    included: staff only. Returns (results or None, the query as typed, a message)."""
    raw = request.GET.get("q")
    if raw is None:
        return None, "", ""
    try:
        query = search.clean_query(raw)
    except search.BadQuery as e:
        return None, raw, str(e)
    results = Entry.objects.select_related("story").search(query, story=story)
    found = search.page(results, size=DESK_SEARCH_RESULTS, story=story).results
    for entry in found:
        entry.marked_headline_html, entry.extract_html = entry.search_extract()
    return found, raw, ""


@login_required
@require_POST
def pin_key_point(request, slug, pk):
    """One click: the entry's headline becomes the last key point, linked to it."""
    story = get_story_for_desk(request, slug)
    if not permissions.can_edit_key_points(request.user):
        raise PermissionDenied
    if story.status == Story.Status.ENDED:
        return render_ended(request, story, status=409)
    entry = get_object_or_404(story.entries, pk=pk)
    if not story.entries.public().filter(pk=entry.pk).exists():
        # A key point is public at once: it must not show a draft or scheduled entry.
        messages.error(request, f"Publish “{entry.headline}” first: readers can’t see it yet.")
    elif services.key_point_add(entry=entry, user=request.user) is None:
        messages.info(request, f"Already a key point: “{entry.headline}”.")
    else:
        messages.success(request, f"Pinned as a key point: “{entry.headline}”.")
    return redirect(reverse("liveblog:desk", args=[story.slug]) + "#key-points-desk")


@login_required
@require_POST
def move_key_point(request, slug, pk):
    """Move a key point up or down one place, or pin or unpin it."""
    story = get_story_for_desk(request, slug)
    if not permissions.can_edit_key_points(request.user):
        raise PermissionDenied
    if story.status == Story.Status.ENDED:
        return render_ended(request, story, status=409)
    point = get_object_or_404(story.key_points, pk=pk)
    action = request.POST.get("action")
    if action in ("up", "down"):
        services.key_point_move(point=point, direction=action, user=request.user)
    elif action in ("pin", "unpin"):
        services.key_point_set_pinned(point=point, pinned=action == "pin", user=request.user)
    else:
        return HttpResponse(
            "“action” must be up, down, pin or unpin.", status=400, content_type="text/plain"
        )
    done = {"up": "Moved up", "down": "Moved down", "pin": "Pinned", "unpin": "Unpinned"}[action]
    messages.success(request, f"{done}: “{point.text[:80]}”.")
    return redirect(reverse("liveblog:desk", args=[story.slug]) + "#key-points-desk")
