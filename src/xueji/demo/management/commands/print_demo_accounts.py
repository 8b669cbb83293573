"""xueji print_demo_accounts: who to log in as, with which password, where; with the second
factor required (make run DEMO_TWO_FACTOR=1), a fresh enrolment code for each account that must
set up an authenticator and has none (issued as the operator's command line would, audited)."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from xueji.accounts.policy import needs_second_factor
from xueji.accounts.second_factor.selectors import has_second_factor
from xueji.accounts.second_factor.services import second_factor_code_issue
from xueji.demo import demo
from xueji.demo.selectors import demo_accounts


def width(text: str) -> int:
    """Columns a text takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


class Command(BaseCommand):
    help = "Print the demo accounts, their roles and scopes, the password and the URL."

    def handle(self, *args: Any, **options: Any) -> None:
        rows = demo_accounts()
        if not rows:
            raise CommandError("The demo is not loaded: run `xueji load_demo` first.")
        codes = enrolment_codes([row.username for row in rows])
        name_width = max(width(row.username) for row in rows)
        role_width = max(width(row.role) for row in rows)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Xueji demo: open {demo.URL}"))
        self.stdout.write(f"Password for every demo account: {demo.PASSWORD}")
        self.stdout.write("")
        self.stdout.write(f"  {pad('username', name_width)}  {pad('role', role_width)}  scope")
        for row in rows:
            self.stdout.write(
                f"  {pad(row.username, name_width)}  {pad(row.role, role_width)}  {row.scope}"
            )
        if codes:
            self.stdout.write("")
            self.stdout.write(
                "Second factor: set up an authenticator app at the first login with the "
                "enrolment code (once each, until the next start):"
            )
            for username, code in codes.items():
                self.stdout.write(f"  {pad(username, name_width)}  {code}")
        self.stdout.write("")


def enrolment_codes(usernames: list[str]) -> dict[str, str]:
    """A new enrolment code for each account that needs the second factor and has none yet."""
    codes = {}
    for user in get_user_model().objects.filter(username__in=usernames).order_by("username"):
        if needs_second_factor(user) and not has_second_factor(user):
            codes[user.get_username()] = second_factor_code_issue(actor=None, user=user).code
    return {name: codes[name] for name in usernames if name in codes}
