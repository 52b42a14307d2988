from django.contrib.sitemaps.views import sitemap
from django.urls import path

from . import api, desk, feeds, previews, questions, updates, views
from .http import page_max_age, public_cache
from .sitemaps import StorySitemap

# Feeds and the sitemap may be kept as long as the pages they list.
cached_like_pages = public_cache(page_max_age)

app_name = "liveblog"
# Every URL about one story captures its slug as "slug": that is how its answers get the
# story's surrogate key (middleware.py). Anything else's slug goes by another name.
urlpatterns = [
    # First: it is the URL asked most often, by every open page every few seconds.
    # <str:since>, not <int:since>: a malformed version is a 400 with a reason, not a 404.
    path("stories/<slug:slug>/updates/<str:since>/", updates.story_updates, name="updates"),
    path("", views.front_page, name="front"),
    path("stories/<slug:slug>/", views.story_page, name="story"),
    path("stories/<slug:slug>/entries/<int:pk>/", views.entry_page, name="entry"),
    path("stories/<slug:slug>/embed/", views.embed, name="embed"),
    path("stories/<slug:slug>/search/", views.story_search, name="story_search"),
    path("search/", views.search_page, name="search"),
    # A reader's question or tip: never cached (the form carries a CSRF token).
    path("stories/<slug:slug>/ask/", questions.ask, name="ask"),
    path("stories/<slug:slug>/feed/rss/", cached_like_pages(feeds.StoryFeed()), name="story_rss"),
    path(
        "stories/<slug:slug>/feed/atom/",
        cached_like_pages(feeds.StoryAtomFeed()),
        name="story_atom",
    ),
    path("feed/rss/", cached_like_pages(feeds.LatestFeed()), name="latest_rss"),
    path("feed/atom/", cached_like_pages(feeds.LatestAtomFeed()), name="latest_atom"),
    path("people/<slug:person_slug>/", views.person_page, name="person"),
    path("api/stories/", api.stories, name="api_stories"),
    path("api/stories/<slug:slug>/", api.story, name="api_story"),
    path("api/stories/<slug:slug>/entries/", api.entries, name="api_entries"),
    path(
        "sitemap.xml",
        cached_like_pages(sitemap),
        {"sitemaps": {"stories": StorySitemap}},
        name="sitemap",
    ),
    path("robots.txt", views.robots_txt, name="robots"),
    # Behind login: never cached, never indexed.
    path("desk/<slug:slug>/", desk.desk, name="desk"),
    path("desk/<slug:slug>/preview/", desk.preview, name="desk_preview"),
    path("desk/<slug:slug>/entries/<int:pk>/key-point/", desk.pin_key_point, name="desk_pin"),
    path("desk/<slug:slug>/key-points/<int:pk>/", desk.move_key_point, name="desk_key_point"),
    path("desk/<slug:slug>/questions/", questions.desk_questions, name="desk_questions"),
    path("desk/<slug:slug>/questions/<int:pk>/", questions.desk_question, name="desk_question"),
    path("preview/stories/<slug:slug>/", previews.story_preview, name="story_preview"),
    path(
        "preview/stories/<slug:slug>/entries/<int:pk>/",
        previews.entry_preview,
        name="entry_preview",
    ),
]
