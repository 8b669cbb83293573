"""`xueji federation …`: the two-level deployment's operations.

replicate --hub DSN --province 44=DSN [--province 11=DSN]   set up logical replication
                                                            (superuser DSNs; idempotent)
worker [--once] [--interval S]    apply the inbox, retry pending reservations, send the
                                  audit checkpoints to the hub (a node's delivery process)
status                            this node's role, inbox and outbox counts, subscriptions
trim [--days N] [--dry-run]       the retention: acknowledge what this node applied, drop the
                                  messages (and their payloads) older than N days
                                  (XUEJI_FEDERATION_RETENTION_DAYS) that the other side applied;
                                  the inbox's keys stay (xueji.federation.retention)
resubscribe --hub DSN --province 44=DSN   after a failover: the subscriptions to and from the
                                  promoted node created again (copy_data; nothing lost, nothing
                                  applied twice)
"""

from __future__ import annotations

import json
import signal
import time
from typing import Any

import psycopg
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import InterfaceError, OperationalError, connections

from xueji.federation import replication


class Command(BaseCommand):
    help = "The two-level deployment: replication set-up, the delivery worker, status, retention."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rep = sub.add_parser("replicate")
        rep.add_argument("--hub", required=True, help="superuser conninfo of the hub")
        rep.add_argument("--province", action="append", default=[], help="44=<superuser conninfo>")
        worker = sub.add_parser("worker")
        worker.add_argument("--once", action="store_true")
        worker.add_argument("--interval", type=float, default=0.5)
        sub.add_parser("status")
        trim = sub.add_parser("trim")
        trim.add_argument("--days", type=int, default=None, help="retention in days")
        trim.add_argument("--dry-run", action="store_true", help="count, change nothing")
        res = sub.add_parser("resubscribe")
        res.add_argument("--hub", required=True, help="superuser conninfo of the hub")
        res.add_argument("--province", required=True, help="44=<conninfo of the promoted node>")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "replicate":
            self.replicate(options["hub"], options["province"])
        elif action == "resubscribe":
            code, _, dsn = options["province"].partition("=")
            if len(code) != 2 or not dsn:
                raise CommandError(f"--province {options['province']!r}: expected 44=<conninfo>")
            for target, statements in replication.resubscribe_plan(
                code, hub=options["hub"], node=dsn
            ):
                with psycopg.connect(target, autocommit=True) as connection:
                    for statement in statements:
                        connection.execute(statement.encode())
            self.stdout.write(f"subscriptions of {code} created again (hub ⇄ {dsn})")
        elif action == "worker":
            self.worker(once=options["once"], interval=options["interval"])
        elif action == "trim":
            self.trim(days=options["days"], dry_run=options["dry_run"])
        else:
            self.status()

    def replicate(self, hub: str, provinces: list[str]) -> None:
        nodes: dict[str, str] = {}
        for item in provinces:
            code, _, dsn = item.partition("=")
            if len(code) != 2 or not dsn:
                raise CommandError(f"--province {item!r}: expected 44=<conninfo>")
            nodes[code] = dsn

        def run(dsn: str, statements: list[str]) -> None:
            with psycopg.connect(dsn, autocommit=True) as connection:
                for statement in statements:
                    connection.execute(statement.encode())

        def drop_subscriptions(dsn: str) -> None:
            with psycopg.connect(dsn, autocommit=True) as connection:
                for row in connection.execute(replication.drop_subscriptions_sql().encode()):
                    for statement in row:
                        connection.execute(statement.encode())

        drop_subscriptions(hub)
        for dsn in nodes.values():
            drop_subscriptions(dsn)
        # Slots left by dropped subscriptions (SET slot_name = NONE) are dropped at the source.
        for dsn in [hub, *nodes.values()]:
            run(
                dsn,
                [
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                    "WHERE slot_name LIKE 'xueji_%' AND NOT active"
                ],
            )
        run(hub, replication.hub_publications(list(nodes)))
        for code, dsn in nodes.items():
            run(dsn, replication.province_publications(code))
        for code, dsn in nodes.items():
            run(hub, replication.hub_subscription(code, dsn))
            run(dsn, replication.province_subscription(code, hub))
        self.stdout.write(f"replication set up: hub ⇄ {', '.join(sorted(nodes))}")

    def worker(self, *, once: bool, interval: float) -> None:
        from xueji.federation.worker import worker_round

        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while True:
            try:
                done = worker_round()
            except (OperationalError, InterfaceError) as error:
                # The database went away (a restart, a failover): try again, do not die.
                self.stderr.write(f"database unavailable: {error}")
                connections.close_all()
                time.sleep(max(interval, 2.0))
                continue
            if once:
                self.stdout.write(json.dumps(done))
                return
            if stopping:
                return
            if not any(done.values()):
                time.sleep(interval)

    def trim(self, *, days: int | None, dry_run: bool) -> None:
        import datetime

        from django.utils import timezone

        from xueji.federation.retention import messages_trim, retention_days, retention_problem

        days = retention_days() if days is None else days
        problem = retention_problem(days)
        if problem:
            raise CommandError(problem.replace("XUEJI_FEDERATION_RETENTION_DAYS", "--days"))
        result = messages_trim(
            older_than=timezone.now() - datetime.timedelta(days=days), dry_run=dry_run
        )
        would = "would be " if dry_run else ""
        dry = " (dry run: nothing changed)" if dry_run else ""
        self.stdout.write(
            f"messages older than {days} days ({result.older_than}){dry}:\n"
            f"  sent, applied by the other side: {result.sent_trimmed} {would}deleted\n"
            f"  received, applied here: {result.received_trimmed} {would}deleted\n"
            f"  sent, not yet acknowledged: {result.sent_kept} kept\n"
            f"  received, not yet applied: {result.received_kept} kept\n"
            f"  applied here, {would}acknowledged to their source: {result.acknowledged} "
            f"({result.ack_messages} messages)"
        )

    def status(self) -> None:
        from xueji.federation.worker import node_status

        self.stdout.write(json.dumps(node_status(), default=str, indent=2))
