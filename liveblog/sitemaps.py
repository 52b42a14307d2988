from django.contrib.sitemaps import Sitemap

from .dates import in_range
from .models import Story


class StorySitemap(Sitemap):
    changefreq = "always"

    def items(self):
        return Story.objects.public().order_by("-updated_at")

    def lastmod(self, story):
        # A time stored out of range (older data, a fix made in SQL) is left out: the
        # sitemap would convert it to the server's zone, which may overflow.
        return story.updated_at if in_range(story.updated_at) else None
