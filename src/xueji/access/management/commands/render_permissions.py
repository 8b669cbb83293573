"""`xueji render_permissions`: write docs/permissions.md from the permission matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xueji.access.docs import default_path, render


class Command(BaseCommand):
    help = "Render the permission matrix into docs/permissions.md (or --output)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, default=None, help="where to write the file")
        parser.add_argument(
            "--check", action="store_true", help="fail if the file is not up to date"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["output"] or default_path()
        text = render()
        if options["check"]:
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current != text:
                raise CommandError(f"{path} is out of date: run `xueji render_permissions`")
            self.stdout.write(f"{path} is up to date.")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {path}.")
