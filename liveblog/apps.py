from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class LiveblogConfig(AppConfig):
    name = "liveblog"
    verbose_name = "Live stories"

    def ready(self):
        from . import checks, signals  # noqa: F401
        from .dates import read_out_of_range_times
        from .roles import ensure_roles

        post_migrate.connect(ensure_roles, sender=self)
        connection_created.connect(read_out_of_range_times)
