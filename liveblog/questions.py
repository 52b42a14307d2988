"""Readers ask, the newsroom answers (issue 17): the readers' form and the desk's queue.

The form's page is never cached (it carries a CSRF token); the story page, which is
cached for everyone, only links to it, and its script brings the form in place.
A submission is private: no public view reads one, and what readers ever see of it is
the entry that answers it.
"""

from axes.helpers import get_client_ip_address
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import permissions, services
from .desk import get_story_for_desk, queue_context
from .models import Story, Submission
from .question_forms import AskForm

THANKS = "Thanks, the newsroom has it."


@never_cache
@require_http_methods(["GET", "POST"])
def ask(request, slug):
    """The form for a question or tip about a story; a POST queues it for the desk."""
    story = get_object_or_404(Story.objects.public(), slug=slug)
    if request.method == "GET":
        return render_ask(request, story, AskForm())
    form = AskForm(request.POST)
    if form.is_bot:
        # Told it worked, so it learns nothing; nothing is kept.
        messages.success(request, THANKS)
        return redirect("liveblog:ask", story.slug)
    if not form.is_valid():
        return render_ask(request, story, form, status=400)
    try:
        services.submission_create(
            story=story,
            address=get_client_ip_address(request) or "",
            **{name: form.cleaned_data[name] for name in ("text", "name", "email")},
        )
    except services.SubmissionRefused as refused:
        return render_ask(request, story, form, refusal=str(refused), status=refused.status)
    messages.success(request, THANKS)
    return redirect("liveblog:ask", story.slug)


def render_ask(request, story, form, *, refusal=None, status=200):
    context = {"story": story, "form": form, "refusal": refusal}
    return render(request, "liveblog/ask.html", context, status=status)


def get_story_for_questions(request, slug):
    story = get_story_for_desk(request, slug)
    if not permissions.can_answer_questions(request.user, story):
        raise PermissionDenied
    return story


@never_cache
@login_required
def desk_questions(request, slug):
    """The story's waiting questions, as the desk shows them (its script asks again
    every few seconds, so new ones arrive live)."""
    story = get_story_for_questions(request, slug)
    return render(request, "liveblog/_desk_questions.html", queue_context(story))


@never_cache
@login_required
@require_POST
def desk_question(request, slug, pk):
    """Mark a question used, or dismiss it."""
    story = get_story_for_questions(request, slug)
    submission = get_object_or_404(story.submissions.awaiting(), pk=pk)
    decisions = {"used": Submission.Status.USED, "dismiss": Submission.Status.DISMISSED}
    status = decisions.get(request.POST.get("action"))
    if status is None:
        return HttpResponse(
            "“action” must be used or dismiss.", status=400, content_type="text/plain"
        )
    services.submission_set_status(submission=submission, status=status, user=request.user)
    done = "Marked as used" if status == Submission.Status.USED else "Dismissed"
    messages.success(request, f"{done}: “{submission.text[:80]}”.")
    return redirect(reverse("liveblog:desk", args=[story.slug]) + "#questions")
