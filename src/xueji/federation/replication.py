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
