from django.core.management.base import BaseCommand, CommandParser

from xueji.students.services import sealed_values_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt identity numbers sealed under an old key with the active key "
        "(the first of XUEJI_FIELD_KEYS). Run after adding a key; retire the old key afterwards."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args: object, **options: object) -> None:
        def progress(table: str, field: str, done: int) -> None:
            self.stdout.write(f"\r{table}.{field}: {done} re-encrypted", ending="")
            self.stdout.flush()

        total = sealed_values_rotate(
            actor=None, batch_size=int(str(options["batch_size"])), progress=progress
        )
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"{total} values re-encrypted with the active key"))
