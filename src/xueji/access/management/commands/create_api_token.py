"""`xueji create_api_token USERNAME NAME`: make an API token and print it, shown this once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from xueji.access.services import api_token_create
from xueji.core.errors import FieldErrors, ServiceError


class Command(BaseCommand):
    help = "Create an API token acting as USERNAME (with that user's role and scope)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("name", help="what the token is for, e.g. the client system's name")

    def handle(self, *args: Any, username: str, name: str, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            token, raw = api_token_create(actor=None, user=user, name=name)
        except FieldErrors as error:
            messages = [e["message"] for errs in error.as_json().values() for e in errs]
            raise CommandError(" ".join(messages)) from None
        except ServiceError as error:
            raise CommandError(str(error.message)) from None
        self.stderr.write(
            f"Token {token.pk} ({token.prefix}…) for {username}. It is shown once; store it now."
        )
        self.stdout.write(raw)
