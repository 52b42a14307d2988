from django.urls import path

from . import views

app_name = "liveblog"
urlpatterns = [
    # First: it is the URL asked most often, by every open page every few seconds.
    # <str:since>, not <int:since>: a malformed version is a 400 with a reason, not a 404.
    path("stories/<slug:slug>/updates/<str:since>/", views.story_updates, name="updates"),
    path("", views.front_page, name="front"),
    path("stories/<slug:slug>/", views.story_page, name="story"),
    path("stories/<slug:slug>/entries/<int:pk>/", views.entry_page, name="entry"),
    path("people/<slug:slug>/", views.person_page, name="person"),
    # Behind login: never cached, never indexed.
    path("preview/stories/<slug:slug>/", views.story_preview, name="story_preview"),
    path(
        "preview/stories/<slug:slug>/entries/<int:pk>/", views.entry_preview, name="entry_preview"
    ),
]
