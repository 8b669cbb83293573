"""`xueji seal_stale_accounts`: seal accounts unused for XUEJI_ACCOUNT_STALE_DAYS (run daily)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from xueji.accounts.policy import stale_days
from xueji.accounts.services import accounts_seal_stale


class Command(BaseCommand):
    help = "Seal the accounts not used for XUEJI_ACCOUNT_STALE_DAYS days (default 180)."

    def handle(self, *args: Any, **options: Any) -> None:
        sealed = accounts_seal_stale(actor=None)
        for account in sealed:
            self.stdout.write(
                f"sealed {account.username} (last used {account.last_used_at:%Y-%m-%d})"
            )
        self.stdout.write(f"{len(sealed)} accounts unused for {stale_days()} days sealed.")
