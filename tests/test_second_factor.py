"""A stolen password cannot publish (issue 19): with STAFF_REQUIRE_2FA on, a login
without its second factor reaches the pages that enrol or ask for one and nothing else;
signing in takes a password and an authenticator's code, a passkey (tests/browser/
test_second_factor.py) or a single-use recovery code; django-axes counts wrong codes;
editors see who has enrolled and reset a colleague's factors; sessions end when idle,
on request, and at a password change; each of those is a line in the editors' log."""

from base64 import b32decode
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from liveblog.accounts import ENROL_VIEWS, SIGN_IN_VIEWS
from liveblog.models import AuditEvent, Entry

from .conftest import SUMMARY
from .surfaces import DEBUG_ONLY, SURFACES, make_world
from .test_visibility import PUBLIC_SURFACES

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # the factories' password
LOGIN = "/admin/login/"
SIGN_IN = "sign_in_view"  # the wizards' form prefixes: their class names
ENROL = "enrol_view"

# Every URL pattern that is not a reader's: the URL table of the fuzz test, less the
# public views of the visibility test and the pages a login without a factor may use.
PUBLIC = {f"liveblog:{name}" for name in PUBLIC_SURFACES} | {"healthz"} | DEBUG_ONLY
STAFF_URLS = sorted(set(SURFACES) - PUBLIC - SIGN_IN_VIEWS - ENROL_VIEWS)


@pytest.fixture(autouse=True)
def _second_factor_required(settings):
    settings.STAFF_REQUIRE_2FA = True


def enrol_totp(user):
    return TOTPDevice.objects.create(user=user, name="default", confirmed=True)


def code(device, offset=0):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset * device.step
    return str(totp.token()).zfill(device.digits)


def sign_in_password(client, username="editor", **extra):
    return client.post(
        LOGIN,
        {
            f"{SIGN_IN}-current_step": "auth",
            "auth-username": username,
            "auth-password": PASSWORD,
        },
        **extra,
    )


def sign_in_token(client, token, step="token", **extra):
    return client.post(
        LOGIN, {f"{SIGN_IN}-current_step": step, f"{step}-otp_token": token}, **extra
    )


def verified(client, device):
    """Mark the client's session as having passed ``device``, as a sign-in does."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def is_signed_in(client):
    return client.get("/admin/").status_code == 200


# --- Every staff URL refuses a login without a second factor ----------------------------


@pytest.fixture
def world(editor, reporter):
    return make_world(editor, reporter)


def test_the_staff_urls_are_the_url_table_less_public_and_sign_in_pages(request):
    assert "liveblog:desk" in STAFF_URLS
    assert "admin:liveblog_entry_change" in STAFF_URLS
    assert "two_factor:backup_tokens" in STAFF_URLS
    assert "liveblog:story" not in STAFF_URLS
    request.config.stash.setdefault(SUMMARY, []).append(
        f"second factor: {len(STAFF_URLS)} staff URL patterns refuse a password-only login"
    )


@pytest.mark.parametrize("persona", ["editor", "reporter"])
def test_every_staff_url_refuses_a_password_only_login(client, world, editor, reporter, persona):
    """The enrolled editor is sent to sign in again with the factor; the reporter, who
    has none, to enrolment; a POST (a publish, a crafted form) is refused either way."""
    user = {"editor": editor, "reporter": reporter}[persona]
    if persona == "editor":
        enrol_totp(editor)
        expected = LOGIN + "?next="
    else:
        expected = reverse("two_factor:setup")
    client.force_login(user)
    entries = Entry.objects.count()
    for key in STAFF_URLS:
        url, _ = SURFACES[key].build(world, "GET", {})
        response = client.get(url)
        assert response.status_code == 302, (key, response.status_code)
        assert response["Location"].startswith(expected), (key, response["Location"])
        path, body = SURFACES[key].build(world, "POST", {})
        response = client.post(path, body or "", content_type="application/x-www-form-urlencoded")
        assert response.status_code == 403, (key, response.status_code)
    assert Entry.objects.count() == entries


def test_a_desk_publish_with_a_password_only_login_is_refused(client, world, reporter):
    client.force_login(reporter)
    url, body = SURFACES["liveblog:desk"].build(world, "POST", {})
    published = Entry.objects.public().count()
    response = client.post(url, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 403
    assert Entry.objects.public().count() == published


def test_a_verified_session_reaches_the_desk_and_admin(client, world, reporter):
    device = enrol_totp(reporter)
    client.force_login(reporter)
    verified(client, device)
    assert client.get(f"/desk/{world.story.slug}/").status_code == 200
    assert client.get("/admin/").status_code == 200


def test_a_password_only_login_with_a_factor_cannot_enrol_another(client, editor):
    enrol_totp(editor)
    client.force_login(editor)
    assert client.get(reverse("two_factor:setup")).status_code == 302
    response = client.post(reverse("two_factor:setup"), {f"{ENROL}-current_step": "welcome"})
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=editor).count() == 1


def test_readers_pass_untouched(client, world):
    response = client.get(f"/stories/{world.story.slug}/")
    assert response.status_code == 200
    # The gate reads no session without a cookie: readers' answers do not vary on one.
    assert "Cookie" not in response.get("Vary", "")


def test_off_a_password_login_reaches_the_admin(client, settings, editor):
    settings.STAFF_REQUIRE_2FA = False
    client.force_login(editor)
    assert is_signed_in(client)


# --- Signing in ----------------------------------------------------------------------------


def test_an_enrolled_login_signs_in_with_a_password_and_a_generated_code(client, editor):
    device = enrol_totp(editor)
    response = sign_in_password(client)
    assert response.status_code == 200  # the code step
    assert "token-otp_token" in response.content.decode()
    assert not is_signed_in(client)
    response = sign_in_token(client, code(device))
    assert response.status_code == 302
    assert is_signed_in(client)
    assert AuditEvent.objects.filter(user=editor, action=AuditEvent.Action.SIGNED_IN).exists()


def test_a_wrong_code_does_not_sign_in_and_is_logged(client, editor):
    device = enrol_totp(editor)
    sign_in_password(client)
    wrong = str((int(code(device)) + 1) % 1_000_000).zfill(6)
    response = sign_in_token(client, wrong)
    assert response.status_code == 200
    assert not is_signed_in(client)
    assert AuditEvent.objects.filter(
        user=editor, action=AuditEvent.Action.SECOND_FACTOR_FAILED
    ).exists()


def test_wrong_codes_lock_the_login_out_like_wrong_passwords(client, settings, editor):
    settings.AXES_FAILURE_LIMIT = 3
    device = enrol_totp(editor)
    sign_in_password(client, REMOTE_ADDR="10.0.0.1")
    for _ in range(3):
        response = sign_in_token(client, "000000", REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429
    # Locked out: even the right code is refused now, and so is the password.
    device.throttling_failure_count = 0
    device.save()
    assert sign_in_token(client, code(device), REMOTE_ADDR="10.0.0.1").status_code == 429
    assert not is_signed_in(client)
    assert sign_in_password(Client(), REMOTE_ADDR="10.0.0.1").status_code == 429


def test_a_login_without_a_factor_enrols_one_with_an_authenticator_app(client, reporter):
    response = sign_in_password(client, "reporter")
    assert response.status_code == 302
    response = client.get("/admin/")
    assert response["Location"] == reverse("two_factor:setup")
    setup = reverse("two_factor:setup")
    assert client.get(setup).status_code == 200
    client.post(setup, {f"{ENROL}-current_step": "welcome"})
    response = client.post(setup, {f"{ENROL}-current_step": "method", "method-method": "generator"})
    assert response.status_code == 200
    secret = client.session["django_two_factor-qr_secret_key"]
    device = TOTPDevice(key=b32decode(secret).hex(), user=reporter)
    response = client.post(
        setup, {f"{ENROL}-current_step": "generator", "generator-token": code(device)}
    )
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=reporter, confirmed=True).count() == 1
    assert is_signed_in(client)
    assert AuditEvent.objects.filter(
        user=reporter, action=AuditEvent.Action.SECOND_FACTOR_ADDED
    ).exists()


def test_a_recovery_code_signs_in_once(editor):
    enrol_totp(editor)
    recovery = StaticDevice.objects.create(user=editor, name="backup")
    recovery.token_set.create(token=StaticToken.random_token())
    token = recovery.token_set.get().token
    first, second = Client(), Client()
    for client in (first, second):
        sign_in_password(client)
        client.post(LOGIN, {f"{SIGN_IN}-current_step": "token", "wizard_goto_step": "backup"})
        sign_in_token(client, token, step="backup")
    assert is_signed_in(first)
    assert not is_signed_in(second)
    assert not recovery.token_set.exists()


def test_recovery_codes_are_made_for_a_verified_login(client, editor):
    device = enrol_totp(editor)
    client.force_login(editor)
    verified(client, device)
    assert client.post(reverse("two_factor:backup_tokens")).status_code == 302
    assert StaticToken.objects.filter(device__user=editor).count() == 10


# --- Editors and sessions --------------------------------------------------------------


def test_editors_see_who_has_enrolled(client, editor, reporter, other_reporter):
    device = enrol_totp(editor)
    enrol_totp(reporter)
    client.force_login(editor)
    verified(client, device)
    page = client.get(reverse("admin:liveblog_stafflogin_changelist")).content.decode()
    assert page.count("TOTP device") == 2
    assert "none: not enrolled" in page


def test_reporters_cannot_reset_factors(client, reporter, other_reporter):
    device = enrol_totp(reporter)
    enrol_totp(other_reporter)
    client.force_login(reporter)
    verified(client, device)
    response = client.post(
        reverse("admin:liveblog_stafflogin_changelist"),
        {"action": "reset_second_factors", "_selected_action": [other_reporter.pk]},
    )
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=other_reporter).exists()


def test_an_editor_resets_a_colleagues_factors_and_sessions(editor, reporter):
    enrol_totp(reporter)
    theirs = Client()
    theirs.force_login(reporter)
    verified(theirs, TOTPDevice.objects.get(user=reporter))
    ours = Client()
    ours.force_login(editor)
    verified(ours, enrol_totp(editor))
    ours.post(
        reverse("admin:liveblog_stafflogin_changelist"),
        {"action": "reset_second_factors", "_selected_action": [reporter.pk]},
    )
    assert not TOTPDevice.objects.filter(user=reporter).exists()
    assert not is_signed_in(theirs)
    assert is_signed_in(ours)
    event = AuditEvent.objects.get(action=AuditEvent.Action.SECOND_FACTOR_RESET)
    assert event.user == editor
    assert "reporter" in event.detail


def test_sign_out_other_devices_ends_the_others_only(editor):
    device = enrol_totp(editor)
    here, elsewhere = Client(), Client()
    for client in (here, elsewhere):
        client.force_login(editor)
        verified(client, device)
    assert here.post(reverse("two_factor:sign_out_others")).status_code == 302
    assert is_signed_in(here)
    assert not is_signed_in(elsewhere)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SIGNED_OUT_OTHERS).exists()


def test_a_password_change_ends_the_other_sessions(editor):
    device = enrol_totp(editor)
    here, elsewhere = Client(), Client()
    for client in (here, elsewhere):
        client.force_login(editor)
        verified(client, device)
    response = here.post(
        reverse("admin:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a much longer new passphrase",
            "new_password2": "a much longer new passphrase",
        },
    )
    assert response.status_code == 302
    assert is_signed_in(here)
    assert not is_signed_in(elsewhere)


def test_a_session_ends_after_a_working_day_without_use(client, settings, editor):
    assert settings.SESSION_COOKIE_AGE == settings.STAFF_SESSION_IDLE_HOURS * 3600 == 36_000
    device = enrol_totp(editor)
    client.force_login(editor)
    verified(client, device)
    assert is_signed_in(client)
    session = Session.objects.get(pk=client.session.session_key)
    left = session.expire_date - timezone.now()
    assert timedelta(hours=9, minutes=59) < left <= timedelta(hours=10)
    # A day's idleness later, the session is gone.
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert not is_signed_in(client)


def test_staff_pages_keep_a_working_session_alive(client, editor):
    device = enrol_totp(editor)
    client.force_login(editor)
    verified(client, device)
    key = client.session.session_key
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + timedelta(hours=1))
    assert is_signed_in(client)
    left = Session.objects.get(pk=key).expire_date - timezone.now()
    assert left > timedelta(hours=9)


def test_a_password_sign_in_is_logged_when_the_rule_is_off(client, settings, editor):
    settings.STAFF_REQUIRE_2FA = False
    client.post(LOGIN, {"username": "editor", "password": PASSWORD})
    event = AuditEvent.objects.get(action=AuditEvent.Action.SIGNED_IN)
    assert (event.user, event.detail, event.story) == (editor, "with a password", None)
