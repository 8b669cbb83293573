"""A logged-in client for page tests."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.test import Client


def client_as(user: Any, language: str | None = None) -> Client:
    """A client logged in as `user`; with `language`, having chosen it as a user does (the
    language cookie: the site ignores the browser's), else in the site's default, Chinese."""
    client = Client()
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(user)
    return client
