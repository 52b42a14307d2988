"""The admin site every admin of the project is registered on, Django's and the add-ons'
included (newsroom.apps.AdminConfig makes it the default)."""

import functools

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import TO_FIELD_VAR

from liveblog.accounts import SignInView, second_factor_required
from liveblog.forms import LoginForm
from liveblog.http import bad_request


class NewsroomAdminSite(admin.AdminSite):
    site_header = "Newsroom live desk"
    site_title = "Newsroom"
    index_title = "Live stories"
    login_form = LoginForm

    def has_permission(self, request):
        # The gate in liveblog/accounts.py refuses a login without its second factor
        # first; asked again here so that no admin view depends on middleware order.
        return super().has_permission(request) and not second_factor_required(request.user)

    def login(self, request, extra_context=None):
        # With second factors required, signing in is django-two-factor-auth's wizard
        # (password, then the factor), at the same URL and with the same lockouts.
        if settings.STAFF_REQUIRE_2FA:
            return SignInView.as_view()(request)
        return super().login(request, extra_context)

    def admin_view(self, view, cacheable=False):
        # Django's change and delete views take an empty "_to_field" for a field's name
        # (FieldDoesNotExist, a 500) after skipping the check that refuses a wrong one.
        # They look the object up before asking for permission, so any staff login
        # reached it, in every admin: refused here once for all of them.
        @functools.wraps(view)
        def refuse_empty_to_field(request, *args, **kwargs):
            if "" in (request.GET.get(TO_FIELD_VAR), request.POST.get(TO_FIELD_VAR)):
                return bad_request(f"“{TO_FIELD_VAR}” may not be empty.")
            return view(request, *args, **kwargs)

        return super().admin_view(refuse_empty_to_field, cacheable)
