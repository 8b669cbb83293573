"""xueji print_demo_accounts: who to log in as, with which password, where."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.management.base import BaseCommand, CommandError

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
        self.stdout.write("")
