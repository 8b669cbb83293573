"""`xueji second_factor issue USER` / `xueji second_factor reset USER`: the operator's way to
issue an enrolment code (shown once) or reset a lost authenticator, both audited, for when no
administrator of the area can do it yet (the first administrator of a new installation)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from xueji.accounts.second_factor.services import second_factor_code_issue, second_factor_reset
from xueji.core.errors import ServiceError


class Command(BaseCommand):
    help = "Issue an enrolment code for the second factor of an account, or reset it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("step", choices=["issue", "reset"])
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no account named {options['username']}")
        try:
            if options["step"] == "issue":
                issued = second_factor_code_issue(actor=None, user=user)
            else:
                reset = second_factor_reset(actor=None, user=user)
        except ServiceError as refused:
            raise CommandError(str(refused.message)) from None
        if options["step"] == "issue":
            until = timezone.localtime(issued.expires_at).strftime("%Y-%m-%d %H:%M")
            self.stdout.write(
                f"Enrolment code for {user.get_username()} (once, until {until}): {issued.code}"
            )
        else:
            self.stdout.write(
                f"The authenticator of {user.get_username()} is reset "
                f"({reset.recovery_codes} recovery codes removed)."
            )
