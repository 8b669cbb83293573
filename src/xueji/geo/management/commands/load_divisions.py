from django.core.management.base import BaseCommand

from xueji.geo.services import divisions_refresh


class Command(BaseCommand):
    help = "Load or refresh the GB/T 2260 administrative divisions and their education bureaus."

    def handle(self, *args: object, **options: object) -> None:
        count = divisions_refresh(actor=None)
        self.stdout.write(self.style.SUCCESS(f"{count} divisions up to date"))
