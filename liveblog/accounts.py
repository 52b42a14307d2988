"""Signing in with a second factor (issue 19): the one home of the rule that, while
``STAFF_REQUIRE_2FA`` is on, a login made with a password alone reaches the pages that
enrol or ask for a second factor, and nothing else.

django-two-factor-auth (on django-otp) does the cryptography and the pages: the sign-in
wizard (password, then an authenticator app's code, a passkey or security key, or a
recovery code), enrolment and recovery codes. What is ours: the gate below, the sign-in
view's ties to django-axes and to the editors' log, and the idle timeout of sessions.
"""

import time

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST
from django.views.generic import RedirectView
from django_otp import devices_for_user
from two_factor import urls as two_factor_urls
from two_factor import views as two_factor_views

from . import services
from .forms import LoginForm

# What a login without a second factor may still ask for: signing in (again, now with
# the factor) and out, and the script that asks a passkey to sign a challenge.
SIGN_IN_VIEWS = {
    "admin:login",
    "admin:logout",
    "two_factor:login",
    "two_factor:two_factor_webauthn:get_credential",
}
# ...and, while the login has no factor at all yet, the pages that enrol the first one.
# Never once it has one: a stolen password must not add the thief's own authenticator.
ENROL_VIEWS = {
    "two_factor:setup",
    "two_factor:qr",
    "two_factor:two_factor_webauthn:create_credential",
}
# Seconds between two writes of a session that only extend its life.
SESSION_TOUCH_INTERVAL = 300


def second_factor_required(user):
    """Whether ``user``'s session must pass a second factor before anything else."""
    return (
        settings.STAFF_REQUIRE_2FA
        and user.is_authenticated
        and not (hasattr(user, "is_verified") and user.is_verified())
    )


def has_second_factor(user):
    return any(devices_for_user(user, confirmed=True))


class SecondFactorRequiredMiddleware:
    """Send a login without a second factor to the page that enrols or asks for one
    (a GET), or refuse it (403, any other method), whatever view it asks for: the admin,
    the desk, previews, and any staff URL added later, since the rule names what is
    allowed, not what is not. Readers have no session and pass untouched.

    Also keeps a working session alive: each staff answer (never one a shared cache may
    keep, which must not set a cookie) moves its end SESSION_COOKIE_AGE ahead, writing
    the session at most every SESSION_TOUCH_INTERVAL seconds.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if self._signed_in(request) and "public" not in response.get("Cache-Control", ""):
            seen = request.session.get("seen_at", 0)
            if time.time() - seen > SESSION_TOUCH_INTERVAL:
                request.session["seen_at"] = int(time.time())
        return response

    def process_view(self, request, view, args, kwargs):
        if not self._signed_in(request) or not second_factor_required(request.user):
            return None
        name = request.resolver_match.view_name
        enrolled = has_second_factor(request.user)
        if name in SIGN_IN_VIEWS or (name in ENROL_VIEWS and not enrolled):
            return None
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied("Sign in with your second factor first.")
        if not enrolled:
            return redirect("two_factor:setup")
        return redirect(f"{reverse('admin:login')}?{urlencode({'next': request.get_full_path()})}")

    @staticmethod
    def _signed_in(request):
        # Without a session cookie there is no login: the session is not even read, so
        # readers' answers do not vary on cookies.
        return (
            settings.SESSION_COOKIE_NAME in request.COOKIES
            and hasattr(request, "user")
            and request.user.is_authenticated
        )


class SignInView(two_factor_views.LoginView):
    """django-two-factor-auth's sign-in, at the admin's login URL, with the admin's login
    form (refuses impossible usernames), and django-axes counting failed second factors
    as it counts failed passwords: a wrong code or recovery code is a failed login for
    that username and address, and a locked-out pair may not try another code."""

    template_name = "two_factor/core/login.html"
    form_list = (
        (two_factor_views.LoginView.AUTH_STEP, LoginForm),
        *two_factor_views.LoginView.form_list[1:],
    )

    def post(self, *args, **kwargs):
        from axes.handlers.proxy import AxesProxyHandler

        user = self.get_user()
        if user and self.steps.current != self.AUTH_STEP:
            credentials = {"username": user.get_username()}
            if AxesProxyHandler.is_locked(self.request, credentials):
                self.request.axes_locked_out = True
                self.request.axes_credentials = credentials
                raise PermissionDenied("Too many failed logins.")
        return super().post(*args, **kwargs)

    def render(self, form=None, **kwargs):
        step = self.steps.current
        if form is not None and form.is_bound and step != self.AUTH_STEP and not form.is_valid():
            user = self.get_user()
            services.account_audit(
                user=user,
                action=services.AuditEvent.Action.SECOND_FACTOR_FAILED,
                detail=f"{step} step of the sign-in",
            )
            user_login_failed.send(
                sender=type(self),
                credentials={"username": user.get_username()},
                request=self.request,
            )
        return super().render(form, **kwargs)


class EnrolView(two_factor_views.SetupView):
    """django-two-factor-auth's enrolment, which also writes a line in the editors' log."""

    def done(self, form_list, **kwargs):
        response = super().done(form_list, **kwargs)
        services.account_audit(
            user=self.request.user,
            action=services.AuditEvent.Action.SECOND_FACTOR_ADDED,
            detail=self.get_method().verbose_name,
        )
        return response


@require_POST
def sign_out_other_devices(request):
    """End every other session of this login (a lost phone, a shared computer)."""
    if not request.user.is_authenticated:
        return redirect("admin:login")
    services.sessions_end_others(user=request.user, keep=request.session.session_key)
    return redirect("two_factor:profile")


@receiver(user_logged_in)
def log_sign_in(sender, request, user, **kwargs):
    if getattr(request, "resolver_match", None) is None:
        # Not a sign-in page's request: the test client's force_login() or a script.
        return
    device = getattr(user, "otp_device", None)
    detail = f"with {device.name or type(device).__name__}" if device else "with a password"
    services.account_audit(user=user, action=services.AuditEvent.Action.SIGNED_IN, detail=detail)


def _two_factor_urls():
    replaced = {"login", "setup"}
    kept = [p for p in two_factor_urls.core if p.name not in replaced]
    return [
        # Sign-in lives at the admin's login URL (newsroom/admin.py); the library's
        # pages that point at their own login page are sent there.
        path(
            "account/login/",
            RedirectView.as_view(pattern_name="admin:login", query_string=True),
            name="login",
        ),
        path("account/two_factor/setup/", EnrolView.as_view(), name="setup"),
        *kept,
        *two_factor_urls.profile,
        *two_factor_urls.plugin_urlpatterns,
        path(
            "account/two_factor/sign-out-others/",
            sign_out_other_devices,
            name="sign_out_others",
        ),
    ]


urlpatterns = (_two_factor_urls(), "two_factor")
