from django.urls import path

from . import views

app_name = "liveblog"
urlpatterns = [
    path("", views.front_page, name="front"),
    path("stories/<slug:slug>/", views.story_page, name="story"),
    path("stories/<slug:slug>/entries/<int:pk>/", views.entry_page, name="entry"),
    path("stories/<slug:slug>/updates/", views.story_updates, name="updates"),
    path("people/<slug:slug>/", views.person_page, name="person"),
]
