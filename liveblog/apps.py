from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LiveblogConfig(AppConfig):
    name = "liveblog"
    verbose_name = "Live stories"

    def ready(self):
        from . import signals  # noqa: F401
        from .roles import ensure_roles

        post_migrate.connect(ensure_roles, sender=self)
