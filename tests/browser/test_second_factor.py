"""A passkey as the second factor, in Chromium (issue 19): enrolled at the first sign-in
and then asked for at the next, with a virtual authenticator (the DevTools protocol's
WebAuthn domain). http://localhost is a secure context, and the passkey's relying party
is the request's host (TWO_FACTOR_RP_ID unset)."""

from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group
from two_factor.plugins.webauthn.models import WebauthnDevice

from liveblog.models import AuditEvent
from liveblog.roles import REPORTERS

from ..factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _second_factor_required(settings):
    settings.STAFF_REQUIRE_2FA = True


def virtual_authenticator(page):
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def sign_in_with_password(page):
    page.goto("/admin/login/?next=/admin/")
    page.fill("[name=auth-username]", "reporter")
    page.fill("[name=auth-password]", "correct horse battery staple")
    page.click("button[type=submit].btn-primary")


def test_a_passkey_is_enrolled_and_then_signs_in(page):
    user = UserFactory(username="reporter")
    user.groups.add(Group.objects.get(name=REPORTERS))
    cdp, authenticator = virtual_authenticator(page)

    sign_in_with_password(page)
    page.wait_for_url("**/account/two_factor/setup/")
    page.click("button[type=submit].btn-primary")  # the welcome step
    page.check("input[value=webauthn]")
    page.click("button[type=submit].btn-primary")
    # The page asks the authenticator to make a credential and posts it by itself.
    page.wait_for_url("**/account/two_factor/setup/complete/")
    assert WebauthnDevice.objects.filter(user=user, confirmed=True).count() == 1
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(credentials["credentials"]) == 1

    page.context.clear_cookies()
    sign_in_with_password(page)
    # The token step asks the passkey to sign and posts the assertion by itself.
    # The path itself: the sign-in page's own address ends "?next=/admin/" too.
    page.wait_for_url(lambda url: urlsplit(url).path == "/admin/")
    assert page.locator("#site-name").is_visible()
    # The first sign-in (password, then enrolment) and the passkey's.
    sign_ins = AuditEvent.objects.filter(user=user, action=AuditEvent.Action.SIGNED_IN)
    assert [e.detail for e in sign_ins] != ["with a password"] * 2
    assert sign_ins.count() == 2
    assert sign_ins.first().detail != "with a password"  # newest first: the passkey's
