"""Language choice: Simplified Chinese for every page unless the user picked English."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class ChineseByDefaultMiddleware:
    """Pages ignore the browser's Accept-Language: the registry's working language is Chinese,
    and English is a choice made with the language switch (kept in the language cookie).
    The API still honours Accept-Language, so system clients can ask for English messages.
    Must run before django.middleware.locale.LocaleMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
