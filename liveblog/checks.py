"""System checks for settings that work, but would cost a production site dearly."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.caches, deploy=True)
def check_canonical_origin(app_configs, **kwargs):
    wildcards = [host for host in settings.ALLOWED_HOSTS if host == "*" or host.startswith(".")]
    if not wildcards or settings.LIVEBLOG_CANONICAL_ORIGIN:
        return []
    return [
        checks.Warning(
            f"ALLOWED_HOSTS has a wildcard ({', '.join(wildcards)}) and "
            "LIVEBLOG_CANONICAL_ORIGIN is not set.",
            hint="Set LIVEBLOG_CANONICAL_ORIGIN to the site's address "
            "(https://news.example.com): otherwise each host name readers use gets first "
            "pages of its own, each one a render and a copy in the cache.",
            id="liveblog.W001",
        )
    ]
