"""`xueji federation …`: the two-level deployment's operations.

replicate --hub DSN --province 44=DSN [--province 11=DSN]   set up logical replication
                                                            (superuser DSNs; idempotent)
worker [--once] [--interval S]    apply the inbox, retry pending reservations, send the
                                  audit checkpoints to the hub (a node's delivery process)
status                            this node's role, inbox and outbox counts, subscriptions
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
    help = "The two-level deployment: replication set-up, the delivery worker, status."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rep = sub.add_parser("replicate")
        rep.add_argument("--hub", required=True, help="superuser conninfo of the hub")
        rep.add_argument("--province", action="append", default=[], help="44=<superuser conninfo>")
        worker = sub.add_parser("worker")
        worker.add_argument("--once", action="store_true")
        worker.add_argument("--interval", type=float, default=0.5)
        sub.add_parser("status")
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

    def status(self) -> None:
        from xueji.federation.worker import node_status

        self.stdout.write(json.dumps(node_status(), default=str, indent=2))
