"""Every URL pattern the project serves, and how to ask it something: the table the
fuzz test (test_fuzz.py) walks. A pattern missing from SURFACES fails
test_every_url_pattern_is_in_the_table until it is added here. Past 300 lines: it is a
table, one row per URL pattern."""

import re
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import quote_from_bytes, urlencode

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.urls import URLResolver, get_resolver

from liveblog import services
from liveblog.models import Entry, Story, Submission
from liveblog.roles import EDITORS

from .admin_posts import admin_entry_post, story_post
from .factories import EntryFactory, KeyPointFactory, PersonFactory, StoryFactory

CHANGELIST_QUERY = ("q", "p", "o", "_to_field")
CHANGEFORM_QUERY = ("_changelist_filters", "_to_field")


@dataclass(frozen=True)
class Surface:
    """One URL pattern: ``url`` has a {placeholder} per path parameter, filled from the
    world's ids; ``query`` maps the query parameters the view reads to their valid value
    (None: left out when it is not the one being tried); ``form`` builds the valid
    data of its POST from the world, whose fields get each hostile value unless
    ``try_fields`` is false; ``flags`` are query parameters whose presence counts,
    never their value."""

    url: str
    query: dict = field(default_factory=dict)
    form: object = None
    flags: tuple = ()
    try_fields: bool = True

    def path_params(self):
        return re.findall(r"{(\w+)}", self.url)

    def form_data(self, world):
        return self.form(world) if self.form else {}

    def build(self, world, method, values):
        """The request that sends ``values`` ({parameter: bytes}) and valid values for the
        other parameters: (url, body)."""
        ids = {name: str(world.ids[name]).encode() for name in self.path_params()}
        path = self.url.format(
            **{name: quote_from_bytes(values.get(name, ids[name]), safe="") for name in ids}
        )
        query = {k: v.encode() for k, v in self.query.items() if v is not None}
        query.update((k, v) for k, v in values.items() if k in self.query or k in self.flags)
        if query and method == "GET":
            path += "?" + urlencode(query)
        if method == "GET":
            return path, None
        data = self.form_data(world)
        data.update((k, v) for k, v in values.items() if k in data or k not in ids)
        pairs = [(k, v) for k, vs in data.items() for v in (vs if isinstance(vs, list) else [vs])]
        return path, urlencode([(k, v if isinstance(v, bytes) else str(v)) for k, v in pairs])

    def parameters(self, world, method):
        names = self.path_params()
        if method == "GET":
            return names + list(self.query) + list(self.flags)
        # A view without a form answers a POST as a GET, or refuses it.
        return names + list(self.form_data(world)) if self.form else []


# --- Valid forms ---------------------------------------------------------------------


def desk_form(w):
    return {
        "headline": "Senators to be briefed",
        "dateline": "WASHINGTON",
        "body": "Officials will brief senators on **Wednesday**.",
        "published_at": "2020-01-06T21:00",
        "photo_alt": "",
        "photo_caption": "",
        "photo_credit": "",
        "authors": [w.reporter.person.pk],
        "submission_id": str(uuid.uuid4()),
        "answers": "",
        "action": "publish",
    }


def entry_form(w):
    return {
        **admin_entry_post(w.entry),
        "authors": [w.reporter.person.pk],
        "people": [w.newsmaker.pk],
        "photo_alt": "",
        "photo_caption": "",
        "photo_credit": "",
    }


def story_form(w):
    return {
        **story_post(w.story),
        "pinned_entry": w.entry.pk,
        # The last second of a day: in the story's zone, the next day in UTC.
        "coverage_start_0": "2020-01-06",
        "coverage_start_1": "23:59:59",
        "coverage_end_0": "2020-01-07",
        "coverage_end_1": "23:59:59",
    }


def new_story_form(w):
    return {**story_form(w), "slug": "a-new-story", "revision": ""}


def person_form(w):
    return {"name": "Mark Esper", "slug": "mark-esper", "title": "", "bio": "", "user": ""}


def changelist_form(w):
    return {"action": "delete_selected", "_selected_action": [w.entry.pk], "index": "0"}


def user_form(w):
    return {"username": "someone", "password1": "", "password2": "", "usable_password": "false"}


def password_form(w):
    return {"old_password": "wrong", "new_password1": "", "new_password2": ""}


def login_form(w):
    return {"username": "editor", "password": "wrong", "next": "/admin/"}


def group_form(w):
    return {"name": "Night desk"}


def confirm_form(w):
    return {"post": "yes"}


def no_fields(w):
    return {}


def disable_form(w):
    return {"understand": "on"}


def key_point_form(w):
    return {"action": "up"}


def ask_form(w):
    return {"text": "Will the embassy close?", "name": "Dana", "email": "", "website": ""}


def question_decision_form(w):
    return {"action": "used"}


# --- The table ------------------------------------------------------------------------


def admin_model(app, model, *, filters=(), initial=(), form=None, add_form=None, history=False):
    """The URLs the admin serves for one model (and simple-history's, for ``history``)."""
    base = f"/admin/{app}/{model}/"
    obj = "{" + model + "}"
    changeform = dict.fromkeys(CHANGEFORM_QUERY)
    rows = {
        f"admin:{app}_{model}_changelist": Surface(
            base,
            dict.fromkeys(CHANGELIST_QUERY + tuple(filters)),
            changelist_form,
            ("e", "all", "_popup", "_facets"),
        ),
        f"admin:{app}_{model}_add": Surface(
            base + "add/",
            {**changeform, **dict.fromkeys(initial)},
            add_form or form,
            ("_popup",),
        ),
        f"admin:{app}_{model}_history": Surface(f"{base}{obj}/history/", {"p": None}),
        f"admin:{app}_{model}_delete": Surface(
            f"{base}{obj}/delete/", {"_to_field": None}, confirm_form, ("_popup",)
        ),
        f"admin:{app}_{model}_change": Surface(
            f"{base}{obj}/change/", changeform, form, ("_popup",)
        ),
        f"admin/{app}/{model}/<path:object_id>/": Surface(f"{base}{obj}/"),
    }
    if history:
        # Restoring a revision posts the change form, whose fields the change URL tries.
        rows[f"admin:{app}_{model}_simple_history"] = Surface(
            f"{base}{obj}/history/{{{model}_version}}/", form=form, try_fields=False
        )
    return rows


def drill_down(name):
    return (f"{name}__year", f"{name}__month", f"{name}__day")


AXES_FILTERS = ("path_info", "attempt_time__gte", "attempt_time__lt", *drill_down("attempt_time"))

SURFACES = {
    # The app's public pages, feeds, API, sitemap.
    "liveblog:front": Surface("/", {"before": None}),
    "liveblog:story": Surface(
        "/stories/{slug}/", {"before": None, "after": None, "order": None, "only": None}
    ),
    "liveblog:entry": Surface("/stories/{slug}/entries/{pk}/"),
    "liveblog:updates": Surface("/stories/{slug}/updates/{since}/"),
    "liveblog:embed": Surface("/stories/{slug}/embed/"),
    "liveblog:ask": Surface("/stories/{slug}/ask/", form=ask_form),
    "liveblog:story_rss": Surface("/stories/{slug}/feed/rss/"),
    "liveblog:story_atom": Surface("/stories/{slug}/feed/atom/"),
    "liveblog:latest_rss": Surface("/feed/rss/"),
    "liveblog:latest_atom": Surface("/feed/atom/"),
    "liveblog:person": Surface("/people/{person_slug}/", {"before": None}),
    "liveblog:search": Surface("/search/", {"q": "update", "order": None, "after": None}),
    "liveblog:story_search": Surface(
        "/stories/{slug}/search/", {"q": "update", "order": None, "after": None}
    ),
    "liveblog:api_stories": Surface("/api/stories/"),
    "liveblog:api_story": Surface("/api/stories/{slug}/"),
    "liveblog:api_entries": Surface(
        "/api/stories/{slug}/entries/", {"limit": "20", "before": None}
    ),
    "liveblog:sitemap": Surface("/sitemap.xml", {"p": None}),
    "liveblog:robots": Surface("/robots.txt"),
    "healthz": Surface("/healthz"),
    # The app's staff pages.
    "liveblog:desk": Surface("/desk/{slug}/", {"q": None, "answer": None}, form=desk_form),
    "liveblog:desk_preview": Surface("/desk/{slug}/preview/", form=desk_form),
    "liveblog:desk_pin": Surface("/desk/{slug}/entries/{pk}/key-point/", form=no_fields),
    "liveblog:desk_key_point": Surface("/desk/{slug}/key-points/{key_point}/", form=key_point_form),
    "liveblog:desk_questions": Surface("/desk/{slug}/questions/"),
    "liveblog:desk_question": Surface(
        "/desk/{slug}/questions/{submission}/", form=question_decision_form
    ),
    "liveblog:story_preview": Surface("/preview/stories/{slug}/"),
    "liveblog:entry_preview": Surface("/preview/stories/{slug}/entries/{pk}/"),
    # The admin site.
    "admin:index": Surface("/admin/"),
    "admin:login": Surface("/admin/login/", {"next": None}, login_form),
    "admin:logout": Surface("/admin/logout/", {"next": None}, no_fields),
    "admin:password_change": Surface("/admin/password_change/", form=password_form),
    "admin:password_change_done": Surface("/admin/password_change/done/"),
    "admin:autocomplete": Surface(
        "/admin/autocomplete/",
        {
            "app_label": "liveblog",
            "model_name": "entry",
            "field_name": "story",
            "term": "a",
            "page": None,
        },
    ),
    "admin:jsi18n": Surface("/admin/jsi18n/"),
    "admin:view_on_site": Surface("/admin/r/{content_type}/{object}/"),
    "admin:app_list": Surface("/admin/{app_label}/"),
    "admin/(?P<url>.*)$": Surface("/admin/{url}"),
    **admin_model(
        "liveblog",
        "entry",
        filters=(
            "status__exact",
            "story__status__exact",
            "story__id__exact",
            *drill_down("published_at"),
        ),
        initial=("story",),
        form=entry_form,
        history=True,
    ),
    **admin_model(
        "liveblog",
        "story",
        filters=("status__exact",),
        form=story_form,
        add_form=new_story_form,
        history=True,
    ),
    **admin_model("liveblog", "person", initial=("name", "user"), form=person_form, history=True),
    **admin_model(
        "liveblog",
        "submission",
        filters=("status__exact", "story__id__exact", *drill_down("created_at")),
    ),
    **admin_model(
        "liveblog",
        "auditevent",
        filters=("action__exact", "story__id__exact", *drill_down("created_at")),
    ),
    # Django's and django-axes' admins are a superuser's: the personas are refused at the
    # door, after the change and delete views have looked the object up.
    **admin_model(
        "auth",
        "user",
        filters=("is_staff__exact", "is_superuser__exact", "is_active__exact", "groups__id__exact"),
        form=user_form,
    ),
    "admin:auth_user_password_change": Surface(
        "/admin/auth/user/{user}/password/", form=password_form
    ),
    **admin_model("auth", "group", form=group_form),
    **admin_model("axes", "accessattempt", filters=AXES_FILTERS),
    **admin_model("axes", "accesslog", filters=(*AXES_FILTERS, "logout_time__gte")),
    **admin_model("axes", "accessfailurelog", filters=(*AXES_FILTERS, "locked_out__exact")),
    # Editors' view of logins and their second factors (read-only but for the reset).
    **admin_model(
        "liveblog",
        "stafflogin",
        filters=("is_active__exact", "groups__id__exact"),
        form=no_fields,
    ),
    # Second factors: django-two-factor-auth's pages (sign-in is the admin's login).
    "two_factor:login": Surface("/account/login/", {"next": None}),
    "two_factor:setup": Surface("/account/two_factor/setup/", form=no_fields),
    "two_factor:qr": Surface("/account/two_factor/qrcode/"),
    "two_factor:setup_complete": Surface("/account/two_factor/setup/complete/"),
    "two_factor:backup_tokens": Surface("/account/two_factor/backup/tokens/", form=no_fields),
    "two_factor:profile": Surface("/account/two_factor/"),
    "two_factor:disable": Surface("/account/two_factor/disable/", form=disable_form),
    "two_factor:sign_out_others": Surface("/account/two_factor/sign-out-others/", form=no_fields),
    "two_factor:two_factor_webauthn:create_credential": Surface(
        "/account/two_factor/webauthn/create_credential.js"
    ),
    "two_factor:two_factor_webauthn:get_credential": Surface(
        "/account/two_factor/webauthn/get_credential.js"
    ),
    # Served by the web server in production; by Django only with DEBUG on.
    "^media/(?P<path>.*)$": Surface("/media/{path}"),
}
DEBUG_ONLY = {"^media/(?P<path>.*)$"}


def url_patterns(resolver=None, prefix="", namespace=None):
    """Every URL pattern the project serves, as "namespace:name" or, unnamed, its route."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace])) or None
            yield from url_patterns(pattern, route, inner)
        elif pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name
        else:
            yield route


# --- The world the requests are about -------------------------------------------------


def make_world(editor, reporter):
    """A live story with a published entry (the reporter's), a draft, a key point, a
    newsmaker, revisions, an audit event and django-axes rows: the objects the table's
    URLs name, by their ids."""
    story = StoryFactory(slug="live-story")
    entry = EntryFactory(story=story, authors=[reporter.person])
    EntryFactory(story=story, status=Entry.Status.DRAFT)
    point = KeyPointFactory(story=story, entry=entry)
    newsmaker = PersonFactory(slug="newsmaker")
    entry.people.add(newsmaker)
    services.story_pin_entry(story=story, entry=entry, user=editor)
    access = {"user_agent": "test", "ip_address": "10.0.0.1", "username": "x", "path_info": "/"}
    story = Story.objects.get(pk=story.pk)
    ids = {
        "slug": story.slug,
        "pk": entry.pk,
        "since": story.version,
        "person_slug": newsmaker.slug,
        "key_point": point.pk,
        "entry": entry.pk,
        "entry_version": entry.history.first().history_id,
        "story": story.pk,
        "story_version": story.history.first().history_id,
        "person": newsmaker.pk,
        "person_version": newsmaker.history.first().history_id,
        "auditevent": story.audit_events.first().pk,
        "submission": Submission.objects.create(story=story, text="Is the embassy open?").pk,
        "user": editor.pk,
        "stafflogin": reporter.pk,
        "group": Group.objects.get(name=EDITORS).pk,
        "accessattempt": AccessAttempt.objects.create(
            **access, get_data="", post_data="", failures_since_start=1
        ).pk,
        "accesslog": AccessLog.objects.create(**access).pk,
        "accessfailurelog": AccessFailureLog.objects.create(**access).pk,
        "content_type": ContentType.objects.get_for_model(Story).pk,
        "object": story.pk,
        "app_label": "liveblog",
        "url": "nothing-here",
        "path": "nothing-here.jpg",
    }
    return SimpleNamespace(
        ids=ids, story=story, entry=entry, newsmaker=newsmaker, reporter=reporter
    )
