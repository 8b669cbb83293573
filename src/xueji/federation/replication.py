"""PostgreSQL logical replication between the nodes: the statements that set it up.

Each province publishes its outbox (inserts only) and its head-count rollup
(stats_headcountdelta, without its local id: a column list, the row found by the key's unique
index as replica identity); the hub subscribes to both. The hub publishes its outbox to each
province with a row filter on the destination (PostgreSQL 15), and each province subscribes to
its own. Rows applied by replication fire the ALWAYS triggers of migration 0002 (node state,
NOTIFY). Run by a superuser (CREATE SUBSCRIPTION needs one in PostgreSQL 15):
`xueji federation replicate --hub <dsn> --province 44=<dsn> ...` (deploy/cluster.py does).
"""

from __future__ import annotations

ROLLUP_KEY_INDEX = "one_headcount_delta_per_key"
ROLLUP_COLUMNS = "province, grade, sex, birth_date, day, delta"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def province_publications(province: str) -> list[str]:
    return [
        f"ALTER TABLE stats_headcountdelta REPLICA IDENTITY USING INDEX {ROLLUP_KEY_INDEX}",
        f"DROP PUBLICATION IF EXISTS xueji_out_{province}",
        f"CREATE PUBLICATION xueji_out_{province} FOR TABLE federation_outbox "
        "WITH (publish = 'insert')",
        f"DROP PUBLICATION IF EXISTS xueji_rollup_{province}",
        f"CREATE PUBLICATION xueji_rollup_{province} FOR TABLE stats_headcountdelta "
        f"({ROLLUP_COLUMNS})",
    ]


def hub_publications(provinces: list[str]) -> list[str]:
    statements = [
        f"ALTER TABLE stats_headcountdelta REPLICA IDENTITY USING INDEX {ROLLUP_KEY_INDEX}",
    ]
    for province in provinces:
        statements += [
            f"DROP PUBLICATION IF EXISTS xueji_hub_to_{province}",
            f"CREATE PUBLICATION xueji_hub_to_{province} FOR TABLE federation_huboutbox "
            f"WHERE (destination = {_quote(province)}) WITH (publish = 'insert')",
        ]
    return statements


def hub_subscription(province: str, conninfo: str) -> list[str]:
    return [
        f"CREATE SUBSCRIPTION xueji_from_{province} CONNECTION {_quote(conninfo)} "
        f"PUBLICATION xueji_out_{province}, xueji_rollup_{province}",
    ]


def province_subscription(province: str, conninfo: str) -> list[str]:
    return [
        f"CREATE SUBSCRIPTION xueji_hub_to_{province} CONNECTION {_quote(conninfo)} "
        f"PUBLICATION xueji_hub_to_{province}",
    ]


def drop_subscriptions_sql() -> str:
    """Statements that drop every subscription of the database (a re-run starts clean)."""
    return (
        "SELECT 'ALTER SUBSCRIPTION ' || quote_ident(subname) || ' DISABLE', "
        "'ALTER SUBSCRIPTION ' || quote_ident(subname) || ' SET (slot_name = NONE)', "
        "'DROP SUBSCRIPTION ' || quote_ident(subname) FROM pg_subscription"
    )


def _drop_subscription(name: str) -> list[str]:
    """Drop a subscription of this database, if any, leaving its slot at the source (the source
    may be gone: a failed primary)."""
    return [
        "DO $$ BEGIN "
        f"IF EXISTS (SELECT 1 FROM pg_subscription WHERE subname = {_quote(name)}) THEN "
        f"EXECUTE 'ALTER SUBSCRIPTION {name} DISABLE'; "
        f"EXECUTE 'ALTER SUBSCRIPTION {name} SET (slot_name = NONE)'; "
        f"EXECUTE 'DROP SUBSCRIPTION {name}'; "
        "END IF; END $$",
    ]


def drop_slot(name: str) -> list[str]:
    """Drop a replication slot at its source, ending the sender that holds it, if any."""
    return [
        "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
        f"WHERE slot_name = {_quote(name)} AND active_pid IS NOT NULL",
        "SELECT pg_sleep(0.5)",
        f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
        f"WHERE slot_name = {_quote(name)} AND NOT active",
    ]


def resubscribe_plan(province: str, *, hub: str, node: str) -> list[tuple[str, list[str]]]:
    """After a failover of a province's node (its standby promoted; `node` is where it answers
    now), the subscriptions to and from it are created again: (dsn, statements) in order.

    PostgreSQL 15 keeps logical slots out of a physical standby: the promoted node has no slot
    for the hub, and its own subscription's origin may be behind the hub's slot. Both are
    created again with copy_data: the outbox tables come across whole, the rows already there
    skipped and the rollup's updated (migration 0005's REPLICA triggers), and nothing the old
    slots had not sent is lost; a message applied before is not applied again (the inbox's
    keys). The old slots are dropped where they can be reached."""
    hub_sub = f"xueji_from_{province}"
    node_sub = f"xueji_hub_to_{province}"
    return [
        (hub, _drop_subscription(hub_sub)),
        (node, drop_slot(hub_sub)),
        (
            hub,
            [
                f"CREATE SUBSCRIPTION {hub_sub} CONNECTION {_quote(node)} "
                f"PUBLICATION xueji_out_{province}, xueji_rollup_{province} "
                "WITH (copy_data = true)"
            ],
        ),
        (node, _drop_subscription(node_sub)),
        (hub, drop_slot(node_sub)),
        (
            node,
            [
                f"CREATE SUBSCRIPTION {node_sub} CONNECTION {_quote(hub)} "
                f"PUBLICATION xueji_hub_to_{province} WITH (copy_data = true)"
            ],
        ),
    ]
