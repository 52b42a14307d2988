"""Every page the project renders passes the Nu Html Checker (vnu) with no error.

One page per template and state: public pages, the embed, the desk, the previews, the
admin pages of every model, the login and lockout pages and the error pages. Feeds and
the sitemap are XML, the API JSON: not HTML. The pages are written to a temporary
directory and checked in one run of the checker (one JVM start for all of them).

The checker is Java: `.ci/run` installs it (the vnu-jar package of the npm registry,
the checker's own distribution: Debian's bookworm has no vnu-jar) and sets
NU_CHECKER_REQUIRED, so CI fails without it; on a developer's machine without it the
test is skipped and says how to get it.
"""

import io
import json
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from PIL import Image

from liveblog.models import Entry, Story

from .factories import EntryFactory, KeyPointFactory, PersonFactory, StoryFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
JAR_PLACES = [
    os.environ.get("VNU_JAR", ""),
    "/usr/share/java/vnu.jar",  # Debian's vnu-jar package, where a release has it
    str(ROOT / ".tools/vnu/node_modules/vnu-jar/build/dist/vnu.jar"),  # .ci/run's install
]
HOW_TO_INSTALL = (
    "npm install --prefix .tools/vnu vnu-jar (and a Java runtime), or set VNU_JAR; "
    ".ci/run installs both"
)


def nu_checker():
    """The command that runs the checker, or None when this machine lacks it."""
    jar = next((p for p in JAR_PLACES if p and Path(p).is_file()), None)
    java = shutil.which("java")
    if jar and java:
        return [java, "-Xss4m", "-jar", jar]
    if os.environ.get("NU_CHECKER_REQUIRED"):
        pytest.fail(f"The Nu Html Checker is required here and missing: {HOW_TO_INSTALL}")
    pytest.skip(f"The Nu Html Checker is not installed: {HOW_TO_INSTALL}")


def photo_upload():
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 800), (30, 90, 160)).save(buffer, format="JPEG")
    return SimpleUploadedFile("photo.jpg", buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def newsroom(settings, tmp_path, editor, reporter):
    """A live story with everything a page can show, an ended one, a draft, and the
    staff who see them."""
    settings.MEDIA_ROOT = tmp_path / "media"
    author = PersonFactory(name="Dana Reyes", slug="dana-reyes", bio="Covers the Pentagon.")
    story = StoryFactory(slug="live", headline="Strike on Iraq base")
    entries = [
        EntryFactory(story=story, body=f"Paragraph **{n}** with a [link](https://example.com).")
        for n in range(3)
    ]
    photo = EntryFactory(
        story=story,
        headline="The base from above",
        photo=photo_upload(),
        photo_alt="Smoke over the base",
        photo_caption="Smoke rises.",
        photo_credit="Staff photographer",
        authors=[author],
        body="- a list\n- of things\n\n> a quotation",
    )
    photo.correction = "An earlier version misstated the time."
    photo.save()
    KeyPointFactory(story=story, entry=entries[0])
    KeyPointFactory(story=story, pinned=False)
    Story.objects.filter(pk=story.pk).update(pinned_entry=entries[1])
    EntryFactory(story=story, status=Entry.Status.DRAFT, headline="A draft")
    EntryFactory(story=story, published_at=timezone.now() + timedelta(hours=2), headline="Later")
    ended = StoryFactory(slug="ended", status=Story.Status.ENDED)
    EntryFactory(story=ended)
    draft = StoryFactory(slug="draft", status=Story.Status.DRAFT)
    EntryFactory(story=draft)
    superuser = UserFactory(username="root", is_superuser=True)
    return {
        "story": Story.objects.get(pk=story.pk),
        "entry": photo,
        "author": author,
        "draft": draft,
        "editor": editor,
        "reporter": reporter,
        "superuser": superuser,
    }


def admin_pages(client, superuser):
    """The index, and each of the project's models' list, add form, and change form and
    history of one object, as the admin's own app list names them (the pages of Django's
    own models and the add-ons', users and lockouts, are theirs to keep valid)."""
    request = RequestFactory().get("/admin/")
    request.user = superuser
    pages = ["/admin/", "/admin/password_change/"]
    for app in admin.site.get_app_list(request, app_label="liveblog"):
        for model in app["models"]:
            pages += [model["admin_url"]]
            if model.get("add_url"):
                pages.append(model["add_url"])
            obj = apps.get_model(app["app_label"], model["object_name"]).objects.first()
            if obj is None:
                continue
            for view in ("change", "history"):
                try:
                    name = f"admin:{obj._meta.app_label}_{obj._meta.model_name}_{view}"
                    pages.append(reverse(name, args=[obj.pk]))
                except NoReverseMatch:
                    continue
    return pages


def test_every_page_passes_the_nu_html_checker(client, newsroom, tmp_path):
    command = nu_checker()
    story, entry, draft = newsroom["story"], newsroom["entry"], newsroom["draft"]
    pages = {}

    def fetch(name, url, *, method="get", status=200, **data):
        response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
        if status is not None:
            assert response.status_code == status, f"{name}: {url} answered {response.status_code}"
        pages[name] = response.content.decode()

    fetch("front", "/")
    fetch("story", story.get_absolute_url())
    fetch("older", story.get_absolute_url(), before=entry.cursor)
    fetch("entry", entry.get_absolute_url())
    fetch("ended", "/stories/ended/")
    fetch("embed", f"{story.get_absolute_url()}embed/")
    fetch("person", newsroom["author"].get_absolute_url())
    fetch("not-found", "/stories/missing/", status=404)
    fetch("login", "/admin/login/")
    rf = RequestFactory().get("/")
    pages["bad-request"] = render_to_string("400.html", request=rf)
    pages["server-error"] = render_to_string("500.html")
    pages["locked-out"] = render_to_string("registration/locked_out.html", request=rf)

    client.force_login(newsroom["reporter"])
    fetch("desk-reporter", f"/desk/{story.slug}/")
    fetch("desk-refused", f"/desk/{story.slug}/", method="post", status=400, action="publish")
    client.force_login(newsroom["editor"])
    fetch("desk-editor", f"/desk/{story.slug}/")
    fetch(
        "desk-preview",
        f"/desk/{story.slug}/",
        method="post",
        status=None,  # the preview of what was typed, whatever the form says of it
        action="preview",
        headline="Typed",
        body="Typed *text*",
        published_at=timezone.now().strftime("%Y-%m-%d %H:%M"),
    )
    fetch("story-preview", f"/preview/stories/{draft.slug}/")
    fetch("entry-preview", f"/preview/stories/{story.slug}/entries/{entry.pk}/")
    client.force_login(newsroom["superuser"])
    for url in admin_pages(client, newsroom["superuser"]):
        fetch(url.strip("/").replace("/", "-"), url)

    for name, html in pages.items():
        (tmp_path / f"{name}.html").write_text(html)
    if os.environ.get("NU_DUMP"):
        shutil.copytree(tmp_path, os.environ["NU_DUMP"], dirs_exist_ok=True)
    files = sorted(str(p) for p in tmp_path.glob("*.html"))
    result = subprocess.run(
        [*command, "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    messages = json.loads(result.stderr or '{"messages": []}')["messages"]
    errors = [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']}"
        for m in messages
        if m["type"] == "error" or m.get("subType") == "fatal"
    ]
    assert len(files) >= 20
    assert errors == [], "\n".join(errors)
