"""`xueji create_account LOGIN --name NAME --role ROLE [--school CODE | --division CODE]`: the
operator's way to make an account (audited, as the command line), above all the first security
administrator of a new deployment, who then makes every other account on the pages. The
initial password is printed once; it must be changed at the first login."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xueji.access.models import Role
from xueji.accounts.administration.services import AccountData, account_create
from xueji.core.errors import FieldErrors, ServiceError


class Command(BaseCommand):
    help = "Create an account with its role and scope; prints its initial password once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("login_name")
        parser.add_argument("--name", required=True, help="The person's name.")
        parser.add_argument("--role", required=True, choices=Role.values)
        place = parser.add_mutually_exclusive_group()
        place.add_argument("--school", default="", help="A school's 10-digit code.")
        place.add_argument(
            "--division", default="", help="A division's 6-digit code; none for the nation."
        )
        parser.add_argument("--phone", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        data = AccountData(
            name=options["name"],
            role=options["role"],
            phone=options["phone"],
            school_code=options["school"],
            division_code=options["division"],
        )
        try:
            created = account_create(actor=None, login_name=options["login_name"], data=data)
        except FieldErrors as refused:
            reasons = "; ".join(
                f"{field}: {error.messages[0]}"
                for field, errors in refused.errors.items()
                for error in errors
            )
            raise CommandError(reasons) from None
        except ServiceError as refused:
            raise CommandError(str(refused.message)) from None
        membership = created.user.membership
        self.stdout.write(
            f"{created.user.get_username()} ({membership}) is created. Initial password, shown "
            f"once (to be changed at the first login): {created.password}"
        )
