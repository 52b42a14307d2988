from .http import bad_request
from .purge import LISTS_KEY, story_key, tag


class RejectNulMiddleware:
    """Answer a query string that carries a NUL character with a 400.

    No URL of ours has one, and PostgreSQL refuses NUL in any string it is sent, so one
    that reached a query was a 500: the admin's autocomplete term, its list filters
    (``?status__exact=%00``), those of the add-ons' admins. Checked once here for every
    view rather than parameter by parameter; form fields refuse NUL by themselves.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:
            return bad_request("A query string may not contain NUL characters (%00).")
        return self.get_response(request)


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
