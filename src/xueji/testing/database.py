"""The tests run as the application's role; what only the owner of the tables may do (create
the test database, migrate it, flush it between transactional tests, rebuild indexes in a bulk
load) is done as the owner, as an operator would (XUEJI_OWNER_DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connections


def owner_configured() -> bool:
    return "owner" in settings.DATABASES and (
        settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    )


@contextmanager
def as_database_owner(alias: str = "default") -> Iterator[None]:
    """The connection `alias` reconnects as the owner of the tables until the block ends (the
    same database); nothing changes when no owner is configured."""
    if not owner_configured():
        yield
        return
    connection = connections[alias]
    owner = settings.DATABASES["owner"]
    saved = {key: connection.settings_dict.get(key) for key in ("USER", "PASSWORD")}
    connection.close()
    connection.settings_dict["USER"] = owner.get("USER", "")
    connection.settings_dict["PASSWORD"] = owner.get("PASSWORD", "")
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def divisions_ensure() -> None:
    """Put the administrative divisions back when a transactional test's flush (TRUNCATE) has
    removed them: they come from a data migration, which a flush does not run again."""
    from xueji.geo.models import Division, EducationBureau
    from xueji.geo.services import load_divisions

    if not Division.objects.exists():
        load_divisions(Division, EducationBureau)
