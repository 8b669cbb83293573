"""Closed periods as data: set by the ministry and each province, the settings as defaults only,
every change audited, the requests they hold dated again at once; and the periods of the year
end and of the class teachers' verification, read from the same rows."""

import datetime

import pytest

from xueji.access.models import Role
from xueji.access.scope import PermissionRefused
from xueji.audit.models import AuditEntry
from xueji.changes.models import ChangeState, ClosedPeriod
from xueji.changes.services import (
    closed_period_add,
    closed_period_defaults_adopt,
    closed_period_edit,
    closed_period_lift,
)
from xueji.changes.tests.services.test_transfer import file
from xueji.changes.tests.world import DONGCHENG, FUTIAN, ZHUHAI, build_world, enrol
from xueji.changes.windows import periods_for
from xueji.core.errors import FieldErrors, NotFound
from xueji.geo.models import Division
from xueji.testing.factories import member

pytestmark = pytest.mark.django_db
D = datetime.date
JULY = D(2026, 7, 1)


@pytest.fixture
def world(settings):
    settings.XUEJI_CHANGE_CLOSED_PERIODS = {}
    settings.XUEJI_PROVINCE_RULES = {}
    return build_world((ZHUHAI, FUTIAN, DONGCHENG))


@pytest.fixture
def ministry():
    return member(Role.BUREAU_APPROVER)


def guangdong(world):
    return world.approvers["440000"]


def test_a_province_closes_transfers_and_a_transfer_filed_in_it_is_held(world):
    period = closed_period_add(
        actor=guangdong(world),
        operation="transfer",
        starts_on=D(2026, 10, 10),
        ends_on=D(2026, 10, 20),
        note="秋季学籍核查",
        on=D(2026, 10, 1),
    )
    assert period.division_id == "440000" and not period.every_year
    # Out of Guangdong, or into it: held until the day after the last.
    out = file(world, enrol(world.site(ZHUHAI)), DONGCHENG, on=D(2026, 10, 12))
    assert out.state == ChangeState.HELD and out.resumes_on == D(2026, 10, 21)
    into = file(world, enrol(world.site(DONGCHENG), name="王小明"), FUTIAN, on=D(2026, 10, 12))
    assert into.state == ChangeState.HELD
    # Only that year: a dated period does not come back.
    assert periods_for("transfer", ["44"])[0].contains(D(2026, 10, 15))
    assert not periods_for("transfer", ["44"])[0].contains(D(2027, 10, 15))
    # Beijing to Beijing is not Guangdong's business.
    assert not periods_for("transfer", ["11"])


def test_the_settings_are_defaults_until_a_level_sets_its_own(world, ministry, settings):
    settings.XUEJI_CHANGE_CLOSED_PERIODS = {
        "nation": [{"kind": "transfer", "from": "07-15", "to": "08-14"}]
    }
    settings.XUEJI_PROVINCE_RULES = {
        "44": {"closed": [{"kind": "transfer", "from": "08-15", "to": "08-31"}]}
    }
    assert {(p.scope, p.row_id) for p in periods_for("transfer", ["44"])} == {
        ("nation", None),
        ("44", None),
    }
    # The ministry adds a winter period: the summer default is taken over as a row, not lost.
    winter = closed_period_add(
        actor=ministry,
        operation="transfer",
        starts_on=D(2026, 12, 25),
        ends_on=D(2027, 1, 5),
        every_year=True,
        on=JULY,
    )
    national = ClosedPeriod.objects.filter(division__isnull=True).order_by("pk")
    assert [(p.from_settings, p.every_year) for p in national] == [(True, True), (False, True)]
    summer = national[0]
    assert (summer.starts_on.month, summer.starts_on.day) == (7, 15)
    assert all(p.row_id is not None for p in periods_for("transfer", ["11"]))
    assert periods_for("transfer", ["11"])[0].contains(D(2027, 7, 20))
    assert periods_for("transfer", ["11"])[1].contains(D(2027, 12, 30))
    # Lifted, the summer period stays lifted: the settings' default does not come back.
    closed_period_lift(actor=ministry, period_id=summer.pk, reason="暑期照常办理", on=JULY)
    assert [p.row_id for p in periods_for("transfer", ["11"])] == [winter.pk]
    # Guangdong's own default is untouched by the ministry's rows.
    assert ("44", None) in {(p.scope, p.row_id) for p in periods_for("transfer", ["44"])}
    # Taking the defaults over explicitly, once.
    adopted = closed_period_defaults_adopt(actor=guangdong(world), operation="transfer", on=JULY)
    assert len(adopted) == 1 and adopted[0].division_id == "440000"
    assert closed_period_defaults_adopt(actor=guangdong(world), operation="transfer") == []
    actions = AuditEntry.objects.filter(action__startswith="closed_period.")
    assert sorted(actions.values_list("action", flat=True)) == [
        "closed_period.add",
        "closed_period.adopt_defaults",
        "closed_period.adopt_defaults",
        "closed_period.lift",
    ]


def test_changing_a_period_dates_its_held_requests_again(world, ministry):
    period = closed_period_add(
        actor=guangdong(world),
        operation="transfer",
        starts_on=D(2026, 10, 10),
        ends_on=D(2026, 10, 20),
        on=D(2026, 10, 1),
    )
    change = file(world, enrol(world.site(ZHUHAI)), FUTIAN, on=D(2026, 10, 12))
    closed_period_edit(
        actor=guangdong(world),
        period_id=period.pk,
        starts_on=D(2026, 10, 10),
        ends_on=D(2026, 10, 31),
        on=D(2026, 10, 13),
    )
    change.refresh_from_db()
    assert change.resumes_on == D(2026, 11, 1)
    edit = AuditEntry.objects.get(action="closed_period.edit")
    assert edit.before["ends_on"] == "2026-10-20" and edit.after["ends_on"] == "2026-10-31"
    # Lifted: it may go on today (the daily tick is queued to release it).
    closed_period_lift(
        actor=guangdong(world), period_id=period.pk, reason="核查提前结束", on=D(2026, 10, 14)
    )
    change.refresh_from_db()
    assert change.state == ChangeState.HELD and change.resumes_on == D(2026, 10, 14)
    lifted = ClosedPeriod.objects.get(pk=period.pk)
    assert lifted.lifted_by == guangdong(world) and lifted.lift_reason == "核查提前结束"
    # A lifted period cannot be lifted or changed again.
    with pytest.raises(NotFound):
        closed_period_lift(actor=guangdong(world), period_id=period.pk, reason="again")


@pytest.mark.parametrize(
    ("values", "field", "code"),
    [
        ({"starts_on": D(2026, 10, 20), "ends_on": D(2026, 10, 10)}, "ends_on", "dates_order"),
        ({"starts_on": D(2026, 9, 1), "ends_on": D(2026, 9, 5)}, "ends_on", "in_the_past"),
        ({"starts_on": D(2026, 10, 1), "ends_on": D(2027, 10, 5)}, "ends_on", "too_long"),
        (
            {"starts_on": D(2026, 10, 1), "ends_on": D(2027, 9, 30), "every_year": True},
            "ends_on",
            "yearly_too_long",
        ),
        ({"operation": "holiday"}, "operation", "invalid_choice"),
        ({"starts_on": None}, "starts_on", "required"),
    ],
)
def test_a_wrong_period_is_refused_next_to_its_field(world, values, field, code):
    arguments = {
        "operation": "transfer",
        "starts_on": D(2026, 10, 10),
        "ends_on": D(2026, 10, 20),
        **values,
    }
    with pytest.raises(FieldErrors) as refused:
        closed_period_add(actor=guangdong(world), on=D(2026, 9, 20), **arguments)
    assert refused.value.errors[field][0].code == code
    assert not ClosedPeriod.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="closed_period.").exists()


def test_who_may_set_which_periods(world, ministry):
    days = {"operation": "transfer", "starts_on": D(2026, 10, 10), "ends_on": D(2026, 10, 20)}
    on = D(2026, 10, 1)
    # A county cannot; a system administrator cannot (settings are the bureaus' duty).
    for refused in (
        world.approvers[FUTIAN],
        member(Role.ADMIN),
        member(Role.ADMIN, division=Division.objects.get(code="440000"), level="province"),
        member(Role.BUREAU_VIEWER, division=Division.objects.get(code="440000"), level="province"),
    ):
        with pytest.raises(PermissionRefused):
            closed_period_add(actor=refused, on=on, **days)
    # A province for itself only, never for another.
    with pytest.raises(NotFound):
        closed_period_add(actor=guangdong(world), province_code="11", on=on, **days)
    beijing = closed_period_add(actor=world.approvers["110000"], on=on, **days)
    national = closed_period_add(actor=ministry, on=on, **days)
    for period in (beijing, national):
        with pytest.raises(NotFound):
            closed_period_edit(
                actor=guangdong(world),
                period_id=period.pk,
                starts_on=D(2026, 10, 1),
                ends_on=D(2026, 10, 31),
                on=on,
            )
        with pytest.raises(NotFound):
            closed_period_lift(actor=guangdong(world), period_id=period.pk, reason="x", on=on)
    # The ministry for the nation and for any province.
    for_guangdong = closed_period_add(actor=ministry, province_code="44", on=on, **days)
    assert for_guangdong.division_id == "440000"
    closed_period_lift(actor=ministry, period_id=beijing.pk, reason="统一安排", on=on)
    assert not ClosedPeriod.objects.filter(division__isnull=True, lifted_at__isnull=False).exists()
