"""The statements that create a promoted node's subscriptions again after a failover (run on
the cluster by deploy/drills.py failover; here: what runs where, and in which order)."""

from __future__ import annotations

from xueji.federation.replication import resubscribe_plan


def test_after_a_failover_both_subscriptions_are_created_again_with_the_tables_copied() -> None:
    plan = resubscribe_plan("44", hub="host=hub", node="host=new-44")
    where = [dsn for dsn, _statements in plan]
    text = ["\n".join(statements) for _dsn, statements in plan]
    # The hub's subscription to the node first (its old slot is gone with the old primary),
    # then the node's to the hub, whose old slot at the hub is dropped before.
    assert where == ["host=hub", "host=new-44"] * 3
    assert "DROP SUBSCRIPTION xueji_from_44" in text[0] and "slot_name = NONE" in text[0]
    assert "pg_drop_replication_slot" in text[1] and "'xueji_from_44'" in text[1]
    assert "CONNECTION 'host=new-44'" in text[2] and "copy_data = true" in text[2]
    assert "PUBLICATION xueji_out_44, xueji_rollup_44" in text[2]
    assert "DROP SUBSCRIPTION xueji_hub_to_44" in text[3]
    assert "'xueji_hub_to_44'" in text[4]
    assert "CONNECTION 'host=hub'" in text[5] and "copy_data = true" in text[5]
