"""The admin site every admin of the project is registered on, Django's and the add-ons'
included (newsroom.apps.AdminConfig makes it the default)."""

import functools

from django.contrib import admin
from django.contrib.admin.options import TO_FIELD_VAR

from liveblog.forms import LoginForm
from liveblog.http import bad_request


class NewsroomAdminSite(admin.AdminSite):
    site_header = "Newsroom live desk"
    site_title = "Newsroom"
    index_title = "Live stories"
    login_form = LoginForm

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
