"""Health and readiness for the process manager and the load balancer (public, no data).

/healthz: the process answers. /readyz: it can serve: the database answers and has no migration
left to apply (a node behind a load balancer is taken out while it is not ready)."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


_migrated = False


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    global _migrated
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        unapplied = []
        if not _migrated:  # migrations are read once; a node is not un-migrated while it runs
            executor = MigrationExecutor(connection)
            unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
            _migrated = not unapplied
    except Exception:
        return JsonResponse({"status": "unavailable", "database": False}, status=503)
    if unapplied:
        return JsonResponse({"status": "migrating", "database": True}, status=503)
    return JsonResponse({"status": "ready", "database": True})
