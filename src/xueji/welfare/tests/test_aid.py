"""Student aid: need, application, approval and the award once per child, programme and term
(the database constraint and the national claim), the payee a guardian, the aid following a
transferred child, the bank's files (a result imported twice changes nothing), 应助尽助."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.students.models import FamilyMember
from xueji.students.national import national_index
from xueji.welfare import aid, selectors
from xueji.welfare.models import (
    AidApplication,
    AidAward,
    AidPayment,
    ApplicationState,
    NeedState,
    PaymentState,
)
from xueji.welfare.validation import FileRefused

pytestmark = pytest.mark.django_db

ACCOUNT = "6222021234567890123"


def programme(registry: Any, **overrides: Any) -> Any:
    values = {
        "name": "义务教育家庭经济困难学生生活补助",
        "province_code": None,
        "stages": ["primary", "junior"],
        "categories": ["dibao", "orphan", "tekun"],
        "term_fen": 62500,
        "payment_mode": "guardian_account",
    }
    values.update(overrides)
    return aid.programme_create(
        actor=registry.nation_approver, scope=registry.scope(registry.nation_approver), **values
    )


def approved_need(registry: Any, key: str, student: Any) -> Any:
    registrar = registry.registrars[key]
    school = registry.scope(registrar)
    need = aid.need_apply(
        actor=registrar, scope=school, student_id=student.pk, category="dibao",
        family_statement="父亲因病失业，家庭享受低保", start_year=2026,
    )  # fmt: skip
    aid.need_step(
        actor=registrar, scope=school, need_id=need.pk, event="assess", note="评议小组一致认定"
    )
    aid.need_step(actor=registrar, scope=school, need_id=need.pk, event="publish")
    county = (
        registry.approver
        if registry.schools[key].county_id == "440304"
        else registry.nanshan_approver
    )
    return aid.need_step(
        actor=county, scope=registry.scope(county), need_id=need.pk, event="approve"
    )


def guardian(student: Any) -> Any:
    return FamilyMember.objects.get(student=student, is_guardian=True)


def apply(registry: Any, key: str, student: Any, found_programme: Any, term: Any = None) -> Any:
    registrar = registry.registrars[key]
    return aid.aid_apply(
        actor=registrar,
        scope=registry.scope(registrar),
        student_id=student.pk,
        programme_id=found_programme.pk,
        term_id=(term or registry.autumn).pk,
        evidence="低保证 440304-2026-001",
        payee_id=guardian(student).pk,
        account=ACCOUNT,
    )


def approve(registry: Any, application: Any, approver: Any = None) -> Any:
    approver = approver or registry.approver
    return aid.aid_decide(
        actor=approver,
        scope=registry.scope(approver),
        application_id=application.pk,
        decision="approve",
    )


def test_the_need_machine_goes_step_by_step(registry: Any) -> None:
    child = registry.register("a")[0]
    registrar = registry.registrars["a"]
    school = registry.scope(registrar)
    need = aid.need_apply(
        actor=registrar, scope=school, student_id=child.pk, category="dibao",
        family_statement="低保户", start_year=2026,
    )  # fmt: skip
    # The county cannot approve before the notice; the school cannot approve at all.
    with pytest.raises(Conflict):
        aid.need_step(
            actor=registry.approver,
            scope=registry.scope(registry.approver),
            need_id=need.pk,
            event="approve",
        )
    with pytest.raises(NotFound):
        aid.need_step(actor=registrar, scope=school, need_id=need.pk, event="approve")
    with pytest.raises(FieldErrors):
        aid.need_step(actor=registrar, scope=school, need_id=need.pk, event="assess", note="")
    approved = approved_need(registry, "a", registry.register("a")[0])
    assert approved.state == NeedState.APPROVED
    assert approved.notice_from is not None


def test_apply_and_approve_makes_one_award(registry: Any) -> None:
    found = programme(registry)
    child = registry.register("a")[0]
    approved_need(registry, "a", child)
    application = apply(registry, "a", child, found)
    assert application.account_masked.endswith("0123") and ACCOUNT not in application.account_masked
    assert ACCOUNT not in application.account_sealed
    approve(registry, application)
    award = AidAward.objects.get(student=child)
    assert award.amount_fen == 62500 and award.school_id == registry.schools["a"].pk
    assert selectors.aid_received(student_id=child.pk) == [
        {
            "programme": found.name,
            "term": str(registry.autumn),
            "term_start": registry.autumn.start_date,
            "amount_fen": 62500,
            "state": "awarded",
        }
    ]
    # Approving again is not a transition the machine has.
    with pytest.raises(Conflict):
        approve(registry, application)


def test_an_application_needs_approved_need_and_a_guardian_payee(registry: Any) -> None:
    found = programme(registry)
    child = registry.register("a")[0]
    with pytest.raises(FieldErrors) as refused:
        apply(registry, "a", child, found)
    assert "student_id" in refused.value.errors
    approved_need(registry, "a", child)
    not_guardian = FamilyMember.objects.get(student=child, is_guardian=False)
    registrar = registry.registrars["a"]
    with pytest.raises(FieldErrors) as refused:
        aid.aid_apply(
            actor=registrar, scope=registry.scope(registrar), student_id=child.pk,
            programme_id=found.pk, term_id=registry.autumn.pk, evidence="证明",
            payee_id=not_guardian.pk, account=ACCOUNT,
        )  # fmt: skip
    assert "payee_id" in refused.value.errors
    # Another school's registrar cannot apply for the child.
    other = registry.registrars["b"]
    with pytest.raises(NotFound):
        aid.aid_apply(
            actor=other, scope=registry.scope(other), student_id=child.pk,
            programme_id=found.pk, term_id=registry.autumn.pk, evidence="证明",
            payee_id=guardian(child).pk, account=ACCOUNT,
        )  # fmt: skip


def test_the_database_refuses_a_second_award_of_a_programme_in_a_term(registry: Any) -> None:
    found = programme(registry)
    child = registry.register("a")[0]
    AidAward.objects.create(
        student=child,
        programme=found,
        term=registry.autumn,
        school=registry.schools["a"],
        amount_fen=1,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        AidAward.objects.create(
            student=child,
            programme=found,
            term=registry.autumn,
            school=registry.schools["b"],
            amount_fen=1,
        )


def test_a_national_claim_taken_elsewhere_refuses_the_award(registry: Any) -> None:
    found = programme(registry)
    child = registry.register("a")[0]
    approved_need(registry, "a", child)
    application = apply(registry, "a", child, found)
    # Another province's node already claimed the child's programme for the term at the hub.
    with transaction.atomic():
        national_index().claim_once(
            purpose=aid.NATIONAL_PURPOSE,
            key=aid.national_key(child, found, registry.autumn),
            holder="elsewhere",
        )
    with pytest.raises(Conflict) as refused:
        approve(registry, application)
    assert refused.value.code == "aid_already_awarded_nationally"
    assert not AidAward.objects.exists()
    assert AidApplication.objects.get(pk=application.pk).state == ApplicationState.FILED


def test_the_county_quota_is_kept(registry: Any) -> None:
    found = programme(registry, name="省级补助", quotas={"440304": 1})
    first, second = registry.register("a", 2)
    for child in (first, second):
        approved_need(registry, "a", child)
    approve(registry, apply(registry, "a", first, found))
    with pytest.raises(Conflict) as refused:
        approve(registry, apply(registry, "a", second, found))
    assert refused.value.code == "quota_full"


def test_approved_aid_follows_a_transferred_child_the_next_term(registry: Any) -> None:
    found = programme(registry)
    child, stays = registry.register("a", 2)
    for each in (child, stays):
        approved_need(registry, "a", each)
        approve(registry, apply(registry, "a", each, found))
    registry.transfer(child, "c", datetime.date(2026, 12, 1))  # to 南山
    nanshan = registry.scope(registry.nanshan_approver)
    assert (
        aid.awards_carry_forward(
            actor=registry.nanshan_approver, scope=nanshan, term_id=registry.spring.pk
        )
        == 1
    )
    carried = AidAward.objects.get(student=child, term=registry.spring)
    assert carried.school_id == registry.schools["c"].pk and carried.carried_from is not None
    # 福田 carries its own child; carrying again makes nothing more.
    futian = registry.scope(registry.approver)
    assert (
        aid.awards_carry_forward(actor=registry.approver, scope=futian, term_id=registry.spring.pk)
        == 1
    )
    assert (
        aid.awards_carry_forward(actor=registry.approver, scope=futian, term_id=registry.spring.pk)
        == 0
    )
    assert AidAward.objects.filter(term=registry.spring).count() == 2


def paid_programme(registry: Any) -> tuple[Any, list[Any]]:
    found = programme(registry)
    children = registry.register("a", 2)
    for child in children:
        approved_need(registry, "a", child)
        approve(registry, apply(registry, "a", child, found))
    county = registry.scope(registry.approver)
    assert (
        aid.payments_make(
            actor=registry.approver, scope=county, programme_id=found.pk, term_id=registry.autumn.pk
        )
        == 2
    )
    return found, children


def result_file(rows: list[tuple[str, str, str]]) -> bytes:
    lines = ["付款编号,结果,银行流水号,日期,金额(元)"] + [
        f"{pk},{result},{ref},2026-10-20,625.00" for pk, result, ref in rows
    ]
    return "\r\n".join(lines).encode("utf-8-sig")


def test_bank_file_and_result_imported_twice_changes_nothing(registry: Any) -> None:
    found, _children = paid_programme(registry)
    county = registry.scope(registry.approver)
    data = aid.bank_file(
        actor=registry.approver, scope=county, programme_id=found.pk, term_id=registry.autumn.pk
    )
    text = data.decode("utf-8-sig")
    assert ACCOUNT in text and "625.00" in text
    payments = list(AidPayment.objects.order_by("created_at"))
    assert {p.state for p in payments} == {PaymentState.SENT}
    results = result_file(
        [(str(payments[0].pk), "成功", "B001"), (str(payments[1].pk), "失败", "B002")]
    )
    assert aid.bank_result_import(actor=registry.approver, scope=county, data=results) == {
        "changed": 2,
        "unchanged": 0,
    }
    snapshot = list(
        AidPayment.objects.order_by("created_at").values_list("state", "bank_reference", "paid_on")
    )
    assert aid.bank_result_import(actor=registry.approver, scope=county, data=results) == {
        "changed": 0,
        "unchanged": 2,
    }
    assert (
        list(
            AidPayment.objects.order_by("created_at").values_list(
                "state", "bank_reference", "paid_on"
            )
        )
        == snapshot
    )
    assert snapshot[0][0] == PaymentState.PAID and snapshot[1][0] == PaymentState.FAILED
    # A failed payment goes into the next bank file again.
    again = aid.bank_file(
        actor=registry.approver, scope=county, programme_id=found.pk, term_id=registry.autumn.pk
    )
    assert again.decode("utf-8-sig").count(ACCOUNT) == 1


def test_a_bad_result_file_is_refused_whole_naming_rows(registry: Any) -> None:
    found, _children = paid_programme(registry)
    county = registry.scope(registry.approver)
    aid.bank_file(
        actor=registry.approver, scope=county, programme_id=found.pk, term_id=registry.autumn.pk
    )
    payments = list(AidPayment.objects.order_by("created_at"))
    data = result_file([(str(payments[0].pk), "成功", "B1"), ("not-a-number", "maybe", "B2")])
    with pytest.raises(FileRefused) as refused:
        aid.bank_result_import(actor=registry.approver, scope=county, data=data)
    rows = {(e.row, e.column) for e in refused.value.errors}
    assert (3, "付款编号") in rows and (3, "结果") in rows
    assert all(e.message and e.message_en for e in refused.value.errors)
    assert set(AidPayment.objects.values_list("state", flat=True)) == {PaymentState.SENT}
    # Another county's approver finds none of these payments.
    nanshan = registry.scope(registry.nanshan_approver)
    with pytest.raises(FileRefused):
        aid.bank_result_import(
            actor=registry.nanshan_approver,
            scope=nanshan,
            data=result_file([(str(payments[0].pk), "成功", "B1")]),
        )


def test_families_on_lists_with_no_aid_are_flagged(registry: Any) -> None:
    found = programme(registry)
    helped, forgotten, other = registry.register("a", 3)
    approved_need(registry, "a", helped)
    approve(registry, apply(registry, "a", helped, found))
    forgotten_parent = guardian(forgotten)
    helped_number = helped.reveal_id_number()
    parent_number = forgotten_parent.id_number_masked  # masked: not in the file
    assert parent_number == "" or "*" in parent_number
    from xueji.testing.factories import resident_id

    # The list names the forgotten child's own ID number and the helped child's.
    listed = [
        ("低保户甲", forgotten.reveal_id_number()),
        ("低保户乙", helped_number),
        ("外人", resident_id()),
    ]
    data = ("姓名,身份证号\r\n" + "\r\n".join(f"{n},{i}" for n, i in listed)).encode("utf-8")
    county = registry.scope(registry.approver)
    assert (
        aid.family_list_load(actor=registry.approver, scope=county, category="dibao", data=data)
        == 3
    )
    flagged = aid.entitled_unaided(county_code="440304", term=registry.autumn)
    assert [row["student"].pk for row in flagged] == [forgotten.pk]
    assert other.pk not in [row["student"].pk for row in flagged]
    bad = "姓名,身份证号\r\n甲,123\r\n".encode()
    with pytest.raises(FileRefused) as refused:
        aid.family_list_load(actor=registry.approver, scope=county, category="dibao", data=bad)
    assert refused.value.errors[0].row == 2
