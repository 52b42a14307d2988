from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from liveblog import accounts

from . import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include(accounts.urlpatterns)),
    path("", include("liveblog.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
