from django.core.management.base import BaseCommand, CommandError, CommandParser

from xueji.core.crypto import keyring
from xueji.students.sealing import DEFAULT_BATCH, sealed_values_rotate


class Command(BaseCommand):
    help = (
        "Move every sealed value to the active key of the suite in force (XUEJI_CRYPTO_SUITE; "
        "the first key of its field keys), recomputing each blind index: after adding a key, or "
        "after switching suites. Runs while the registry is in use, batch by batch; safe to "
        "interrupt and to run again. Retire the old keys once `xueji crypto status` counts no "
        "value under them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)

    def handle(self, *args: object, **options: object) -> None:
        batch_size = int(str(options["batch_size"]))
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        keys = keyring().active
        self.stdout.write(
            f"moving sealed values to the {keys.suite.describe()} suite, key {keys.active_id}"
        )

        def progress(label: str, done: int) -> None:
            self.stdout.write(f"\r{label}: {done} moved", ending="")
            self.stdout.flush()

        result = sealed_values_rotate(actor=None, batch_size=batch_size, progress=progress)
        self.stdout.write("")
        for column in result.columns:
            recovered = f", {column.recovered} former numbers recovered" if column.recovered else ""
            self.stdout.write(f"{column.label}: {column.moved} moved{recovered}")
            if column.changed_meanwhile:
                self.stdout.write(
                    f"  {column.changed_meanwhile} changed while being moved: run again"
                )
            for what, count in (
                ("cannot be read", column.unreadable),
                ("in conflict with another record's index", column.conflicts),
                ("former numbers without a sealed value, not recovered", column.unrecoverable),
            ):
                if count:
                    self.stdout.write(f"  {count} {what}")
            for line in column.named:
                self.stdout.write(f"    {line}")
        stuck = sum(c.unreadable + c.conflicts + c.unrecoverable for c in result.columns)
        if stuck:
            raise CommandError(
                f"{result.moved} values moved; {stuck} could not be (named above): keep the old "
                "keys until they are resolved."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.moved} values moved to the {result.suite} suite, key {result.key_id}"
            )
        )
