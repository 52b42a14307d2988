from .purge import LISTS_KEY, story_key, tag

# The URLs whose answers are about one story (its slug is in the URL).
STORY_URLS = {
    "story",
    "entry",
    "embed",
    "updates",
    "story_rss",
    "story_atom",
    "api_story",
    "api_entries",
}


class SurrogateKeyMiddleware:
    """Tag every publicly cacheable answer with the story it shows, or as a list of
    stories, so a purge after a change reaches all of them (see purge.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = request.resolver_match
        if match is not None and "public" in response.get("Cache-Control", ""):
            if match.url_name in STORY_URLS:
                tag(response, story_key(match.kwargs["slug"]))
            else:
                tag(response, LISTS_KEY)
        return response
