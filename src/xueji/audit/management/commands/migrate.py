"""`xueji migrate` runs as the owner of the tables when XUEJI_OWNER_DATABASE_URL is set (the
application's own role may not create or alter tables), then grants the application role what it
needs (xueji.audit.roles, on post_migrate). Only the command line is redirected: the test runner
migrates the database it has just created, on the connection it names."""

from __future__ import annotations

from django.conf import settings
from django.core.management.commands.migrate import Command as DjangoMigrate


class Command(DjangoMigrate):
    def run_from_argv(self, argv: list[str]) -> None:
        named = any(arg == "--database" or arg.startswith("--database=") for arg in argv)
        if "owner" in settings.DATABASES and not named:
            argv = [*argv, "--database", "owner"]
        super().run_from_argv(argv)
