"""`xueji reopen_account USER`: the operator's way to reopen a sealed account (audited), for
when no account manager of the area can log in."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from xueji.accounts.services import account_reopen
from xueji.core.errors import ServiceError


class Command(BaseCommand):
    help = "Reopen a sealed account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no account named {options['username']}")
        try:
            account_reopen(actor=None, user_id=user.pk)
        except ServiceError as refused:
            raise CommandError(str(refused.message)) from None
        self.stdout.write(f"{user.get_username()} is reopened.")
