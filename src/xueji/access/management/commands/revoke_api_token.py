"""`xueji revoke_api_token TOKEN_ID`: revoke an API token at once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xueji.access.services import api_token_revoke
from xueji.core.errors import ServiceError


class Command(BaseCommand):
    help = "Revoke the API token with this id (as printed by create_api_token)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("token_id", type=int)

    def handle(self, *args: Any, token_id: int, **options: Any) -> None:
        try:
            token = api_token_revoke(actor=None, token_id=token_id)
        except ServiceError as error:
            raise CommandError(str(error.message)) from None
        self.stdout.write(f"Revoked token {token.pk} ({token.prefix}…) of {token.user}.")
