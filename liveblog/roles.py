"""The newsroom's two roles, kept as groups whose permissions the server enforces.

``ensure_roles`` runs after every ``migrate`` (and after the test database is flushed),
so a new permission reaches the groups without anyone editing them by hand.
"""

from django.contrib.auth.models import Group, Permission

EDITORS = "Editors"
REPORTERS = "Reporters"

REPORTER_PERMISSIONS = [
    "view_story",
    "view_keypoint",
    "add_entry",
    "change_entry",  # their own entries only: see EntryAdmin.has_change_permission
    "delete_entry",  # likewise
    "view_entry",
    "add_person",
    "view_person",
]


def ensure_roles(**kwargs):
    liveblog_permissions = Permission.objects.filter(content_type__app_label="liveblog")
    editors, _ = Group.objects.get_or_create(name=EDITORS)
    editors.permissions.set(liveblog_permissions)
    reporters, _ = Group.objects.get_or_create(name=REPORTERS)
    reporters.permissions.set(liveblog_permissions.filter(codename__in=REPORTER_PERMISSIONS))
