import os
from collections.abc import Iterator

import pytest
from django.db import connection


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _only_students_writes_the_record() -> Iterator[None]:
    """Every test runs under the guard that refuses a write of placements, record events or a
    record's state from production code outside xueji.students (xueji.testing.record_guard);
    connections opened during the test (threads) get it too."""
    from django.db import connections
    from django.db.backends.signals import connection_created

    from xueji.testing.record_guard import RecordWriteGuard

    guard = RecordWriteGuard()

    def install(sender: object, connection: object, **kwargs: object) -> None:
        wrappers = connection.execute_wrappers  # type: ignore[attr-defined]
        if guard not in wrappers:
            wrappers.append(guard)

    for alias in connections:
        install(None, connections[alias])
    connection_created.connect(install, weak=False)
    try:
        yield
    finally:
        connection_created.disconnect(install)
        for alias in connections:
            wrappers = connections[alias].execute_wrappers
            if guard in wrappers:
                wrappers.remove(guard)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):  # type: ignore[no-untyped-def]
    """Full-strength hashing costs about a second per test user; tests check logic, not cost."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """A request in English leaves English active in the thread after it: each test starts in
    the default language, whatever ran before it."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _second_factor_not_required(settings):  # type: ignore[no-untyped-def]
    """Tests sign users in with force_login; those about the second factor turn it back on."""
    settings.XUEJI_TWO_FACTOR_REQUIRED = False


@pytest.fixture(autouse=True)
def _divisions_present(request):  # type: ignore[no-untyped-def]
    """Divisions come from a data migration; a transactional test's flush removes them, so put
    them back for the tests that follow it."""
    marker = request.node.get_closest_marker("django_db")
    if marker is not None:
        fixture = "transactional_db" if marker.kwargs.get("transaction") else "db"
    elif "transactional_db" in request.fixturenames or "db" in request.fixturenames:
        # A test that reaches the database through a fixture (`school(db)`), not a marker.
        fixture = "transactional_db" if "transactional_db" in request.fixturenames else "db"
    else:
        return
    request.getfixturevalue(fixture)
    from xueji.testing.database import divisions_ensure

    divisions_ensure()


if os.environ.get("XUEJI_OWNER_DATABASE_URL"):
    # The application's role owns no table (xueji.audit.roles): the test database is created,
    # migrated and dropped as the owner, and the tests then run as the application's role.

    @pytest.fixture(scope="session")
    def django_db_setup(request, django_test_environment, django_db_blocker):  # type: ignore[no-untyped-def]
        from django.test.testcases import TransactionTestCase
        from django.test.utils import setup_databases, teardown_databases

        from xueji.testing.database import as_database_owner

        verbosity = request.config.option.verbose
        with django_db_blocker.unblock(), as_database_owner():
            config = setup_databases(verbosity=verbosity, interactive=False)
        # Transactional tests are flushed (TRUNCATE) between them by the owner: the
        # application's role may not truncate the audit trail.
        flush = TransactionTestCase._fixture_teardown  # type: ignore[attr-defined]

        def flush_as_owner(self):  # type: ignore[no-untyped-def]
            with as_database_owner():
                flush(self)

        TransactionTestCase._fixture_teardown = flush_as_owner  # type: ignore[attr-defined]
        yield
        TransactionTestCase._fixture_teardown = flush  # type: ignore[attr-defined]
        with django_db_blocker.unblock(), as_database_owner():
            teardown_databases(config, verbosity=verbosity)
