from django.contrib.sitemaps import Sitemap

from .models import Story


class StorySitemap(Sitemap):
    changefreq = "always"

    def items(self):
        return Story.objects.public().order_by("-updated_at")

    def lastmod(self, story):
        return story.updated_at
