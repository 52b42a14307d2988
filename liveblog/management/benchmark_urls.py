"""The URLconf of a benchmark run (commands/benchmark.py): the product's URLs, then a
bare view, so that the bare view is routed through the same URL table as the product's
views and the figures compare like with like."""

from django.http import HttpResponse
from django.urls import include, path


def bare_view(request):
    return HttpResponse("ok")


urlpatterns = [path("", include("newsroom.urls")), path("bare/", bare_view)]
