from .purge import LISTS_KEY, story_key, tag


class SurrogateKeyMiddleware:
    """Tag every publicly cacheable answer with the story it shows, or as a list of
    stories, so a purge after a change reaches all of them (see purge.py).

    An answer is about one story when its URL captures the story's slug as ``slug``
    (urls.py keeps that name for stories alone), so a new URL needs no list kept here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = request.resolver_match
        if match is not None and "public" in response.get("Cache-Control", ""):
            slug = match.kwargs.get("slug") if match.namespace == "liveblog" else None
            tag(response, story_key(slug) if slug else LISTS_KEY)
        return response
