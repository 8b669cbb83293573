"""Transfers between provinces across nodes: the handler of each message, on the node where it
takes effect, with the messages the hub forwards made as the hub makes them. One test database
plays one node at a time (the copies of a transfer on two nodes share its id), so the sending
side and the receiving side are tested apart; the cluster test runs both for real
(tests/cluster). A replayed message is applied once."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from xueji.access.models import Role
from xueji.access.scope import PermissionRefused
from xueji.changes.models import StepState
from xueji.core.crypto import blind_index
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.corrections.evidence import Upload
from xueji.federation import selectors, transfers
from xueji.federation.messages import inbox_apply, inbox_drain, message_send
from xueji.federation.models import (
    CarriedRecord,
    CrossSide,
    CrossState,
    CrossTransfer,
    EntryState,
    HubOutbox,
    Inbox,
    IndexEntry,
    MatchKey,
    NationalMove,
    Outbox,
    Tombstone,
)
from xueji.federation.transfers import cross_transfer_decide, cross_transfer_file, record_export
from xueji.geo.models import Division
from xueji.students.identity import number_index, student_number_fields
from xueji.students.models import FamilyMember, Placement, RecordState, Student
from xueji.students.names import name_key
from xueji.students.services import student_register
from xueji.testing.factories import (
    SchoolClassFactory,
    SchoolFactory,
    member,
    resident_id,
    student_data,
)

from .conftest import SECRETS, as_hub

pytestmark = pytest.mark.django_db

ON = datetime.date(2026, 10, 12)


def _node(province: str) -> Any:
    return override_settings(XUEJI_NODE=f"province:{province}")


def _from_hub(transfer_id: Any, topic: str, payload: dict[str, Any], to: str) -> HubOutbox:
    """A message as the hub forwards it to province `to` (its own stream, in order)."""
    with as_hub(), transaction.atomic():
        message = message_send(
            topic=topic,
            payload={"transfer": str(transfer_id), "to": to, **payload},
            destination=to,
            stream=f"transfer:{transfer_id}:{to}",
        )
    assert isinstance(message, HubOutbox)
    return message


def _registered_in_44() -> tuple[Student, Any]:
    school_class = SchoolClassFactory(grade=3)
    registrar = member(Role.REGISTRAR, school=school_class.school)
    registration = student_register(
        actor=registrar,
        school_class_id=school_class.pk,
        data=student_data(birth_date=datetime.date(2018, 3, 5)),
        start_date=datetime.date(2026, 9, 1),
    )
    return registration.student, school_class.school


PDF = b"%PDF-1.4\n% the guardian's request\n" + b"0" * 300


def _guardian_request() -> Upload:
    return Upload(name="监护人申请.pdf", content=PDF)


def _filed_payload(student: Student, transfer_id: Any, name: str | None = None) -> dict[str, Any]:
    return {
        "record": str(student.pk),
        "name_key": blind_index(name_key(name or student.name), context="federation.transfer.name"),
        "from_province": "44",
        "to_province": "11",
        "to_school_name": "北京市东城区第一小学",
        "to_county": "110101",
        "grade": 3,
        "reason": "随父母工作调动",
        "filed_on": "2026-10-09",
        "filed_by_name": "王老师",
    }


# ---- the sending node (44) ----------------------------------------------------------------------


def test_the_sending_node_takes_the_filing_then_moves_the_record_on_the_final_approval() -> None:
    student, school = _registered_in_44()
    transfer_id = uuid.uuid4()
    filed = _from_hub(transfer_id, "transfer.filed", _filed_payload(student, transfer_id), "44")
    with _node("44"):
        assert inbox_apply(filed) is True
        assert inbox_apply(filed) is False  # replayed: refused by the inbox's key
    copy = CrossTransfer.objects.get(pk=transfer_id)
    assert (copy.side, copy.state, copy.from_school_id) == (
        CrossSide.SENDING,
        CrossState.PENDING,
        school.pk,
    )
    student.refresh_from_db()
    assert student.state == RecordState.TRANSFERRING
    located = Outbox.objects.filter(topic="transfer.located")
    assert located.count() == 1  # once, though the filing came twice
    assert located.get().payload["to"] == "11"

    # The receiving county and province approve on their node; their steps arrive in order.
    second = _from_hub(transfer_id, "transfer.step", {"ordinal": 2, "approve": True}, "44")
    third = _from_hub(transfer_id, "transfer.step", {"ordinal": 3, "approve": True}, "44")
    with _node("44"):
        assert inbox_apply(third) is False  # its predecessor has not been applied
        assert inbox_apply(second) is True
        assert inbox_apply(second) is False  # replayed
        assert inbox_drain() == 1
    states = dict(copy.steps.values_list("ordinal", "state"))
    assert states[2] == states[3] == StepState.APPROVED and states[4] == StepState.PENDING

    # The sending school, county and province decide here; the last approval is the final one.
    registrar = member(Role.REGISTRAR, school=school)
    county = member(Role.BUREAU_APPROVER, division=Division.objects.get(code=school.county_id))
    province = member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440000"))
    outsider = member(Role.BUREAU_APPROVER, division=Division.objects.get(code="110000"))
    with _node("44"):
        with pytest.raises(Conflict):
            cross_transfer_decide(actor=county, transfer_id=transfer_id, approve=True)
        cross_transfer_decide(actor=registrar, transfer_id=transfer_id, approve=True)
        cross_transfer_decide(actor=county, transfer_id=transfer_id, approve=True)
        with pytest.raises(Exception):  # noqa: B017  (not in its scope: 404)
            cross_transfer_decide(actor=outsider, transfer_id=transfer_id, approve=True)
        cross_transfer_decide(actor=province, transfer_id=transfer_id, approve=True, on=ON)
    copy.refresh_from_db()
    assert copy.state == CrossState.COMPLETED
    student.refresh_from_db()
    assert student.state == RecordState.LEFT_OTHER
    # The placements up to the transfer date stay here, read-only; the number resolves to 11.
    placement = Placement.objects.get(student=student)
    assert (placement.start_date, placement.end_date) == (datetime.date(2026, 9, 1), ON)
    tombstone = Tombstone.objects.get(record=student.pk)
    assert (tombstone.province, tombstone.moved_on) == ("11", ON)
    with (
        _node("44"),
        override_settings(XUEJI_NATIONAL_INDEX="xueji.federation.client.HubNationalIndex"),
    ):
        from xueji.students import national

        national._configured.cache_clear()
        try:
            number = student.reveal_student_number()
            assert national.national_index().holder_of_number(number).province_code == "11"
        finally:
            national._configured.cache_clear()
    steps = Outbox.objects.filter(topic="transfer.step").order_by("seq")
    assert [m.payload["ordinal"] for m in steps] == [4, 5]
    completed = Outbox.objects.get(topic="transfer.completed")
    data = completed.payload["record_data"]
    assert data["student"]["id"] == str(student.pk)
    assert len(data["related"]["students.FamilyMember"]) == student.family.count() > 0
    assert "students.Placement" in data["related"] and "students.RecordEvent" in data["related"]
    assert completed.seq == steps.last().seq + 1  # after the steps, in the transfer's stream


def test_a_name_that_does_not_match_is_refused_back_to_the_receiving_node() -> None:
    student, _school = _registered_in_44()
    transfer_id = uuid.uuid4()
    filed = _from_hub(
        transfer_id, "transfer.filed", _filed_payload(student, transfer_id, name="李四"), "44"
    )
    with _node("44"):
        assert inbox_apply(filed) is True
    assert CrossTransfer.objects.get(pk=transfer_id).state == CrossState.REJECTED
    refused = Outbox.objects.get(topic="transfer.refused")
    assert refused.payload["code"] == "name_mismatch"
    student.refresh_from_db()
    assert student.state == RecordState.ENROLLED


def test_a_rejection_by_the_receiving_side_gives_the_record_back() -> None:
    student, _school = _registered_in_44()
    transfer_id = uuid.uuid4()
    _from_hub(transfer_id, "transfer.filed", _filed_payload(student, transfer_id), "44")
    _from_hub(
        transfer_id, "transfer.step", {"ordinal": 2, "approve": False, "reason": "无学位"}, "44"
    )
    with _node("44"):
        assert inbox_drain() == 2
        assert inbox_drain() == 0
    copy = CrossTransfer.objects.get(pk=transfer_id)
    assert (copy.state, copy.refusal) == (CrossState.REJECTED, "无学位")
    assert not copy.steps.filter(state__in=[StepState.PENDING, StepState.WAITING]).exists()
    student.refresh_from_db()
    assert student.state == RecordState.ENROLLED


# ---- the hub ------------------------------------------------------------------------------------


def test_the_hub_forwards_each_message_once_and_moves_the_number_on_completion() -> None:
    record = uuid.uuid4()
    IndexEntry.objects.create(
        kind="number",
        index="n-1",
        province="44",
        record=record,
        state=EntryState.CONFIRMED,
        reserved_at=timezone.now(),
    )
    MatchKey.objects.create(record=record, province="44", keys_index="k")
    transfer_id = uuid.uuid4()
    with _node("44"), transaction.atomic():
        step = message_send(
            topic="transfer.step",
            payload={"transfer": str(transfer_id), "to": "11", "ordinal": 4, "approve": True},
            destination="00",
            stream=f"transfer:{transfer_id}",
        )
        done = message_send(
            topic="transfer.completed",
            payload={
                "transfer": str(transfer_id),
                "to": "11",
                "ordinal": 6,
                "approve": True,
                "effective_date": ON.isoformat(),
                "to_school_name": "北京市东城区第一小学",
                "record_data": {"student": {"id": str(record)}, "related": {}},
            },
            destination="00",
            stream=f"transfer:{transfer_id}",
        )
    with as_hub():
        assert inbox_apply(done) is False  # waits for its predecessor
        assert inbox_drain() == 2
        assert inbox_apply(step) is False and inbox_apply(done) is False  # replayed
    forwarded = list(HubOutbox.objects.order_by("seq"))
    assert [(m.topic, m.destination, m.stream, m.seq) for m in forwarded] == [
        ("transfer.step", "11", f"transfer:{transfer_id}:11", 1),
        ("transfer.completed", "11", f"transfer:{transfer_id}:11", 2),
    ]
    entry = IndexEntry.objects.get(record=record)
    assert (entry.province, entry.school_name) == ("11", "北京市东城区第一小学")
    assert MatchKey.objects.get(record=record).province == "11"


def _completed_at_hub(transfer_id: Any, record: Any, source: str = "44") -> Outbox:
    with _node(source), transaction.atomic():
        message = message_send(
            topic="transfer.completed",
            payload={
                "transfer": str(transfer_id),
                "to": "11",
                "ordinal": 6,
                "approve": True,
                "effective_date": ON.isoformat(),
                "to_school_name": "北京市东城区第一小学",
                "record_data": {"student": {"id": str(record)}, "related": {}},
            },
            destination="00",
            stream=f"transfer:{transfer_id}",
        )
    assert isinstance(message, Outbox)
    return message


def test_the_hub_keeps_each_move_between_provinces_once_for_the_national_flows() -> None:
    record, transfer_id = uuid.uuid4(), uuid.uuid4()
    done = _completed_at_hub(transfer_id, record)
    with as_hub():
        assert inbox_apply(done) is True
        assert inbox_apply(done) is False  # replayed: its key is in the inbox
    move = NationalMove.objects.get()
    assert (move.transfer, move.record, move.from_province, move.to_province, move.moved_on) == (
        transfer_id,
        record,
        "44",
        "11",
        ON,
    )
    # The same final step sent again under another key (the province's outbox copied again
    # after a failover) moves nothing more: one move per transfer.
    again = _completed_at_hub(transfer_id, record)
    with as_hub():
        assert inbox_apply(again) is True
    assert NationalMove.objects.count() == 1
    # The flows are counted from the moves, not from the messages, which the retention deletes.
    Outbox.objects.all().delete()
    HubOutbox.objects.all().delete()
    Inbox.objects.all().delete()
    flows = selectors.interprovince_flows()
    assert [(f["from"], f["to"], f["count"], f["first"]) for f in flows] == [
        ("广东省", "北京市", 1, ON)
    ]


# ---- the receiving node (11) --------------------------------------------------------------------


@pytest.fixture
def beijing(hub) -> Iterator[dict[str, Any]]:
    """Province 11's node (its hub answering in this process), a school and its parties, and a
    child held by province 44 at the hub."""
    county = Division.objects.get(code="110101")
    school = SchoolFactory(county=county, code="3111000001", name="北京市东城区第一小学")
    school_class = SchoolClassFactory(school=school, grade=3)
    number = "G" + resident_id("440304", datetime.date(2018, 3, 5))
    record = uuid.uuid4()
    IndexEntry.objects.create(
        kind="number",
        index=number_index(number),
        province="44",
        record=record,
        school_name="深圳市福田区第一小学",
        number_masked=student_number_fields(number)["number_masked"],
        state=EntryState.CONFIRMED,
        reserved_at=timezone.now(),
    )
    with override_settings(XUEJI_NODE="province:11", XUEJI_NODE_SECRET=SECRETS["11"]):
        yield {
            "school": school,
            "class": school_class,
            "number": number,
            "record": record,
            "registrar": member(Role.REGISTRAR, school=school),
            "county": member(Role.BUREAU_APPROVER, division=county),
            "province": member(Role.BUREAU_APPROVER, division=Division.objects.get(code="110000")),
        }


def _moved_record(number: str, record: uuid.UUID) -> dict[str, Any]:
    """The export of a record as province 44 sends it, with its own ids (44's rows are not in
    this database: a child registered here is exported and given the moving record's ids)."""
    with override_settings(XUEJI_NODE="province:44", XUEJI_NODE_SECRET=SECRETS["44"]):
        student, _school = _registered_in_44()
    data = record_export(student)
    data["student"].update(id=str(record), id_number_index="", **student_number_fields(number))
    for label, rows in data["related"].items():
        for row in rows:
            row["student_id"] = str(record)
            if label == "students.StudentNumberAlias":
                row["id"] = None
                row["number_index"] = f"moved-{uuid.uuid4().hex[:20]}"
            elif isinstance(row.get("id"), str):
                row["id"] = str(uuid.uuid4())
    return data


def test_the_receiving_node_files_follows_the_chain_and_receives_the_record(beijing) -> None:
    b = beijing
    with pytest.raises(FieldErrors) as refused:
        cross_transfer_file(
            actor=b["registrar"], student_number="", name="", to_class_id=0, reason=""
        )
    assert set(refused.value.errors) == {
        "student_number",
        "name",
        "reason",
        "to_class_id",
        "guardian_request",
        "evidence",
    }
    transfer = cross_transfer_file(
        actor=b["registrar"],
        student_number=b["number"],
        name="张春铭",
        to_class_id=b["class"].pk,
        reason="随父母工作调动",
        guardian_request=_guardian_request(),
    )
    assert (transfer.side, transfer.state, transfer.from_province, transfer.record) == (
        CrossSide.RECEIVING,
        CrossState.PENDING,
        "44",
        b["record"],
    )
    filed = Outbox.objects.get(topic="transfer.filed")
    assert (filed.destination, filed.payload["to"], filed.source) == ("00", "44", "11")
    with pytest.raises(Conflict):  # one transfer under way per record
        cross_transfer_file(
            actor=b["registrar"],
            student_number=b["number"],
            name="张春铭",
            to_class_id=b["class"].pk,
            reason="again",
            guardian_request=_guardian_request(),
        )

    tid = transfer.pk
    located = _from_hub(
        tid,
        "transfer.located",
        {
            "from_school_name": "深圳市福田区第一小学",
            "from_county": "440304",
            "grade": 3,
            "number_masked": transfer.number_masked,
            "name_masked": "张**",
        },
        "11",
    )
    assert inbox_apply(located) is True and inbox_apply(located) is False
    transfer.refresh_from_db()
    assert transfer.from_county == "440304"
    # The receiving county, then the province, decide here (not the school, not the sender's).
    with pytest.raises(Conflict):
        cross_transfer_decide(actor=b["province"], transfer_id=tid, approve=True)
    cross_transfer_decide(actor=b["county"], transfer_id=tid, approve=True)
    cross_transfer_decide(actor=b["province"], transfer_id=tid, approve=True)
    sent = Outbox.objects.filter(topic="transfer.step").order_by("seq")
    assert [(m.payload["ordinal"], m.seq) for m in sent] == [(2, 2), (3, 3)]
    assert transfers.current_step(transfer).ordinal == 4
    assert not transfers.may_decide_now(b["province"], transfer)  # the sender's turn

    data = _moved_record(b["number"], b["record"])
    families = len(data["related"]["students.FamilyMember"])
    _from_hub(tid, "transfer.step", {"ordinal": 4, "approve": True}, "11")
    _from_hub(tid, "transfer.step", {"ordinal": 5, "approve": True}, "11")
    completed = _from_hub(
        tid,
        "transfer.completed",
        {"ordinal": 6, "approve": True, "effective_date": ON.isoformat(), "record_data": data},
        "11",
    )
    assert inbox_apply(completed) is False  # waits for the steps before it
    assert inbox_drain() == 3
    assert inbox_apply(completed) is False  # replayed: applied once
    transfer.refresh_from_db()
    assert (transfer.state, transfer.effective_date) == (CrossState.COMPLETED, ON)
    assert set(transfer.steps.values_list("state", flat=True)) == {StepState.APPROVED}
    student = Student.objects.get(pk=b["record"])
    assert (student.school_id, student.state) == (b["school"].pk, RecordState.ENROLLED)
    assert student.reveal_student_number() == b["number"]
    placement = Placement.objects.get(student=student)
    assert (placement.school_class_id, placement.start_date, placement.end_date) == (
        b["class"].pk,
        ON,
        None,
    )
    assert FamilyMember.objects.filter(student=student).count() == families
    assert set(student.events.values_list("kind", flat=True)) >= {"registered", "transferred"}
    carried = CarriedRecord.objects.get(record=student.pk)
    assert "students.Placement" in carried.content
    assert Inbox.objects.filter(topic="transfer.completed").count() == 1
    # Only once the record is here does 44 hear that it may drop its copy's rows (once).
    received = Outbox.objects.get(topic="transfer.received")
    assert (received.payload["to"], received.stream, received.seq) == ("44", f"transfer:{tid}", 4)


def test_a_number_of_this_province_or_of_nobody_is_refused_naming_the_field(beijing) -> None:
    b = beijing
    with pytest.raises(FieldErrors) as refused:
        cross_transfer_file(
            actor=b["registrar"],
            student_number="G" + resident_id("110101"),
            name="张春铭",
            to_class_id=b["class"].pk,
            reason="随迁",
            guardian_request=_guardian_request(),
        )
    assert refused.value.errors["student_number"][0].code == "not_found"
    assert not CrossTransfer.objects.exists() and not Outbox.objects.exists()


# ---- the filing's documents ---------------------------------------------------------------------


def _document(content: bytes = PDF, **overrides: Any) -> dict[str, Any]:
    """A document as it travels in `transfer.filed`: described, its content sealed."""
    import hashlib

    from xueji.corrections.evidence import seal

    return {
        "id": str(uuid.uuid4()),
        "purpose": "guardian_request",
        "file_name": "监护人申请.pdf",
        "content_type": "application/pdf",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "sealed": seal(content),
        "uploaded_by_name": "王老师",
        "uploaded_at": timezone.now().isoformat(),
        **overrides,
    }


def _audited(action: str, transfer_id: Any | None = None) -> int:
    from xueji.audit.models import AuditEntry

    entries = AuditEntry.objects.filter(action=action)
    if transfer_id is not None:
        entries = entries.filter(object_id=transfer_id)
    return entries.count()


def test_the_sending_node_keeps_the_filing_s_documents_and_its_parties_open_them() -> None:
    from xueji.federation.models import CrossEvidence

    student, school = _registered_in_44()
    transfer_id = uuid.uuid4()
    request = _document()
    damaged = _document(file_name="证明.pdf", purpose="supporting", sha256="0" * 64)
    filed = _from_hub(
        transfer_id,
        "transfer.filed",
        {**_filed_payload(student, transfer_id), "evidence": [request, damaged]},
        "44",
    )
    with _node("44"):
        assert inbox_apply(filed) is True and inbox_apply(filed) is False
    kept = CrossEvidence.objects.filter(transfer_id=transfer_id)
    assert sorted(str(pk) for pk in kept.values_list("pk", flat=True)) == sorted(
        [request["id"], damaged["id"]]
    )
    registrar = member(Role.REGISTRAR, school=school)
    county = member(Role.BUREAU_APPROVER, division=Division.objects.get(code=school.county_id))
    outsider = member(Role.REGISTRAR, school=SchoolClassFactory().school)
    with _node("44"):
        for party in (registrar, county):
            document, content = transfers.cross_evidence_open(
                actor=party, transfer_id=transfer_id, evidence_id=request["id"]
            )
            assert (content, document.file_name) == (PDF, "监护人申请.pdf")
        with pytest.raises(NotFound):  # not a party of this transfer
            transfers.cross_evidence_open(
                actor=outsider, transfer_id=transfer_id, evidence_id=request["id"]
            )
        with pytest.raises(Conflict):  # the content is not the one whose digest was filed
            transfers.cross_evidence_open(
                actor=registrar, transfer_id=transfer_id, evidence_id=damaged["id"]
            )
    assert _audited("federation.transfer_evidence_open", transfer_id) == 2


def test_the_receiving_school_files_its_documents_sealed_and_bounded(beijing) -> None:
    from xueji.corrections.evidence import unseal
    from xueji.federation.models import CrossEvidence

    b = beijing
    two_mb = b"%PDF-" + b"1" * (2 * 1024 * 1024 - 5)
    with pytest.raises(FieldErrors) as refused:  # 8 MB in all: more than a message carries
        cross_transfer_file(
            actor=b["registrar"],
            student_number=b["number"],
            name="张春铭",
            to_class_id=b["class"].pk,
            reason="随父母工作调动",
            guardian_request=Upload(name="申请.pdf", content=two_mb),
            evidence=[Upload(name=f"{i}.pdf", content=two_mb) for i in range(3)],
        )
    assert refused.value.errors["evidence"][0].code == "too_large"
    with pytest.raises(FieldErrors) as refused:  # not a PDF, JPG or PNG
        cross_transfer_file(
            actor=b["registrar"],
            student_number=b["number"],
            name="张春铭",
            to_class_id=b["class"].pk,
            reason="随父母工作调动",
            guardian_request=Upload(name="申请.exe", content=b"MZ\x90\x00"),
        )
    assert refused.value.errors["guardian_request"][0].code == "file_type"
    assert not CrossTransfer.objects.exists() and not Outbox.objects.exists()
    transfer = cross_transfer_file(
        actor=b["registrar"],
        student_number=b["number"],
        name="张春铭",
        to_class_id=b["class"].pk,
        reason="随父母工作调动",
        guardian_request=_guardian_request(),
        evidence=[Upload(name="居住证.pdf", content=PDF + b"1")],
    )
    documents = {d.purpose: d for d in CrossEvidence.objects.filter(transfer=transfer)}
    assert set(documents) == {"guardian_request", "supporting"}
    assert unseal(documents["guardian_request"].sealed) == PDF
    carried = Outbox.objects.get(topic="transfer.filed").payload["evidence"]
    assert sorted(d["id"] for d in carried) == sorted(str(d.pk) for d in documents.values())
    for travelled in carried:  # sealed as stored: the content itself never travels in clear
        assert travelled["sealed"] == documents[travelled["purpose"]].sealed
        assert PDF.decode() not in str(travelled)
    # The receiving school and its county open them on their node.
    _document_opened, content = transfers.cross_evidence_open(
        actor=b["county"], transfer_id=transfer.pk, evidence_id=documents["supporting"].pk
    )
    assert content == PDF + b"1"


# ---- the receiving school withdraws -------------------------------------------------------------


def _withdrawn_message(transfer_id: Any, seq_payload: dict[str, Any] | None = None) -> HubOutbox:
    return _from_hub(
        transfer_id,
        "transfer.withdraw",
        seq_payload or {"reason": "家长改变主意", "withdrawn_by_name": "王老师"},
        "44",
    )


def test_a_withdrawal_in_time_gives_the_record_back_once_in_the_stream_s_order() -> None:
    student, school = _registered_in_44()
    transfer_id = uuid.uuid4()
    filed = _from_hub(transfer_id, "transfer.filed", _filed_payload(student, transfer_id), "44")
    approved = _from_hub(transfer_id, "transfer.step", {"ordinal": 2, "approve": True}, "44")
    withdraw = _withdrawn_message(transfer_id)
    with _node("44"):
        assert inbox_apply(withdraw) is False  # it waits for the filing and the approval
        assert inbox_apply(filed) is True
        assert inbox_apply(withdraw) is False
        assert inbox_apply(approved) is True
        assert inbox_apply(withdraw) is True
        assert inbox_apply(withdraw) is False  # replayed
    copy = CrossTransfer.objects.get(pk=transfer_id)
    assert (copy.state, copy.refusal) == (CrossState.WITHDRAWN, "家长改变主意")
    assert not copy.steps.filter(state__in=[StepState.PENDING, StepState.WAITING]).exists()
    student.refresh_from_db()
    assert student.state == RecordState.ENROLLED
    confirmed = Outbox.objects.filter(topic="transfer.withdrawn")
    assert confirmed.count() == 1 and confirmed.get().payload["to"] == "11"
    assert _audited("federation.transfer_withdrawn", transfer_id) == 1
    # A decision here after the withdrawal is refused; the record stays 在籍.
    registrar = member(Role.REGISTRAR, school=school)
    with _node("44"), pytest.raises(Conflict):
        cross_transfer_decide(actor=registrar, transfer_id=transfer_id, approve=True)
    student.refresh_from_db()
    assert student.state == RecordState.ENROLLED


def _approved_to_the_end_in_44(student: Student, school: Any, transfer_id: Any) -> None:
    _from_hub(transfer_id, "transfer.filed", _filed_payload(student, transfer_id), "44")
    _from_hub(transfer_id, "transfer.step", {"ordinal": 2, "approve": True}, "44")
    _from_hub(transfer_id, "transfer.step", {"ordinal": 3, "approve": True}, "44")
    county = member(Role.BUREAU_APPROVER, division=Division.objects.get(code=school.county_id))
    province = member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440000"))
    with _node("44"):
        assert inbox_drain() == 3
        cross_transfer_decide(
            actor=member(Role.REGISTRAR, school=school), transfer_id=transfer_id, approve=True
        )
        cross_transfer_decide(actor=county, transfer_id=transfer_id, approve=True)
        cross_transfer_decide(actor=province, transfer_id=transfer_id, approve=True, on=ON)


def test_a_withdrawal_that_arrives_after_the_final_approval_is_ignored() -> None:
    student, school = _registered_in_44()
    transfer_id = uuid.uuid4()
    _approved_to_the_end_in_44(student, school, transfer_id)
    withdraw = _withdrawn_message(transfer_id)
    with _node("44"):
        assert inbox_apply(withdraw) is True and inbox_apply(withdraw) is False
    assert CrossTransfer.objects.get(pk=transfer_id).state == CrossState.COMPLETED
    student.refresh_from_db()
    assert student.state == RecordState.LEFT_OTHER  # gone: the completion is on its way to 11
    assert not Outbox.objects.filter(topic="transfer.withdrawn").exists()
    assert _audited("federation.transfer_withdrawal_late", transfer_id) == 1


# ---- after the move: the sending node keeps the placements and the tombstone -------------------


def _past_figures(school: Any, days: list[datetime.date]) -> list[Any]:
    from xueji.access.models import ScopeLevel
    from xueji.access.scope import Scope
    from xueji.stats import sql

    nation = Scope(role="bureau_approver", level=ScopeLevel.NATION)
    figures = []
    for on in days:
        for area in (sql.Area("county", school.county_id), sql.Area("school", school_id=school.pk)):
            for keys in (["grade", "age", "sex"], ["ethnicity", "hukou_nature"], ["left_behind"]):
                figures.append(sorted(sql.on_roll(on, area, nation, keys)))
    return figures


def test_the_sending_node_removes_the_child_s_rows_only_once_the_record_has_arrived() -> None:
    from xueji.archive.models import Conduct, Vaccination
    from xueji.audit.models import AuditEntry
    from xueji.students.models import RecordEvent

    student, school = _registered_in_44()
    actor = student.events.first().actor
    Conduct.objects.create(
        student=student,
        school=school,
        grade=3,
        kind="award",
        title="三好学生",
        decided_on=datetime.date(2026, 9, 20),
        issuer="学校",
        evidence="校发〔2026〕7号",
        entered_by=actor,
    )
    Vaccination.objects.create(
        student=student, school=school, vaccine="麻腮风", dose=1, given_on=ON, entered_by=actor
    )
    # The guardian named as the payee of this node's aid application stays (its accounts need
    # the row: PROTECT); the other members go.
    from types import SimpleNamespace

    from xueji.welfare.tests.matrix_objects import application

    payee = student.family.filter(is_guardian=True).first()
    assert payee is not None and student.family.count() > 1
    aid = application(SimpleNamespace(student=student, school=school))
    aid.payee = payee
    aid.save(update_fields=["payee"])
    days = [datetime.date(2026, 9, 1), datetime.date(2026, 9, 30), ON - datetime.timedelta(1)]
    before = _past_figures(school, days)
    transfer_id = uuid.uuid4()
    _approved_to_the_end_in_44(student, school, transfer_id)
    # Completed, the record sent: its rows are still here until 11 says it holds it.
    assert FamilyMember.objects.filter(student=student).exists()
    assert Conduct.objects.filter(student=student).exists()
    assert _past_figures(school, days) == before
    events = RecordEvent.objects.filter(student=student).count()
    audit_entries = AuditEntry.objects.count()

    received = _from_hub(transfer_id, "transfer.received", {"record": str(student.pk)}, "44")
    with _node("44"):
        assert inbox_apply(received) is True
        assert inbox_apply(received) is False  # replayed
    assert list(FamilyMember.objects.filter(student=student)) == [payee]
    assert not Conduct.objects.filter(student=student).exists()
    assert not Vaccination.objects.filter(student=student).exists()
    # Kept: the record's row (read-only, left), its placements up to the transfer date, its
    # history, the tombstone, and every audit entry (two more: the release and its record).
    student.refresh_from_db()
    assert student.state == RecordState.LEFT_OTHER
    assert Placement.objects.get(student=student).end_date == ON
    assert RecordEvent.objects.filter(student=student).count() == events
    assert Tombstone.objects.get(record=student.pk).province == "11"
    assert AuditEntry.objects.count() == audit_entries + 2
    released = AuditEntry.objects.get(action="student.record_released", object_id=student.pk)
    assert released.detail["rows"]["students.FamilyMember"]["removed"] > 0
    assert released.detail["rows"]["students.FamilyMember"]["kept"] == 1
    assert released.detail["rows"]["archive.Conduct"] == {"removed": 1, "kept": 0}
    assert CrossTransfer.objects.get(pk=transfer_id).released_at is not None
    # The statistics and census of past dates are those they were.
    assert _past_figures(school, days) == before


def test_a_record_still_on_a_roll_here_is_not_released() -> None:
    from xueji.students.release import record_release

    student, _school = _registered_in_44()
    with transaction.atomic(), pytest.raises(Conflict):
        record_release(actor=None, student=student, detail={})
    assert FamilyMember.objects.filter(student=student).exists()


# ---- the receiving node's side of a withdrawal ---------------------------------------------------


def _filed_in_11(b: dict[str, Any]) -> CrossTransfer:
    return cross_transfer_file(
        actor=b["registrar"],
        student_number=b["number"],
        name="张春铭",
        to_class_id=b["class"].pk,
        reason="随父母工作调动",
        guardian_request=_guardian_request(),
    )


def test_the_receiving_school_withdraws_and_the_sending_node_confirms(beijing) -> None:
    b = beijing
    transfer = _filed_in_11(b)
    other_school = SchoolFactory(county=Division.objects.get(code="110101"))
    with pytest.raises(NotFound):  # another school does not even see it
        transfers.cross_transfer_withdraw(
            actor=member(Role.REGISTRAR, school=other_school), transfer_id=transfer.pk
        )
    with pytest.raises(PermissionRefused):  # the county decides, it does not withdraw
        transfers.cross_transfer_withdraw(actor=b["county"], transfer_id=transfer.pk)
    assert transfers.may_withdraw_now(b["registrar"], transfer)
    transfers.cross_transfer_withdraw(
        actor=b["registrar"], transfer_id=transfer.pk, reason="家长改变主意"
    )
    transfer.refresh_from_db()
    assert transfer.state == CrossState.WITHDRAWING
    sent = Outbox.objects.get(topic="transfer.withdraw")
    assert (sent.payload["to"], sent.payload["reason"], sent.seq) == ("44", "家长改变主意", 2)
    with pytest.raises(Conflict):  # no party here decides any more
        cross_transfer_decide(actor=b["county"], transfer_id=transfer.pk, approve=True)
    with pytest.raises(Conflict):  # withdrawn once
        transfers.cross_transfer_withdraw(actor=b["registrar"], transfer_id=transfer.pk)
    confirmed = _from_hub(transfer.pk, "transfer.withdrawn", {}, "11")
    assert inbox_apply(confirmed) is True and inbox_apply(confirmed) is False
    transfer.refresh_from_db()
    assert transfer.state == CrossState.WITHDRAWN
    assert not transfer.steps.filter(state__in=[StepState.PENDING, StepState.WAITING]).exists()
    # The child may be filed again.
    assert _filed_in_11(b).state == CrossState.PENDING


def test_a_final_approval_that_came_first_overtakes_the_withdrawal(beijing) -> None:
    """Withdrawn on 11 while 44's province approved: 44 had settled it, so the record that left
    44 lands on 11 (never lost, never 转学中), and 11's withdrawal is noted as overtaken."""
    b = beijing
    transfer = _filed_in_11(b)
    tid = transfer.pk
    cross_transfer_decide(actor=b["county"], transfer_id=tid, approve=True)
    cross_transfer_decide(actor=b["province"], transfer_id=tid, approve=True)
    transfers.cross_transfer_withdraw(actor=b["registrar"], transfer_id=tid)
    data = _moved_record(b["number"], b["record"])
    _from_hub(tid, "transfer.step", {"ordinal": 4, "approve": True}, "11")
    _from_hub(tid, "transfer.step", {"ordinal": 5, "approve": True}, "11")
    _from_hub(
        tid,
        "transfer.completed",
        {"ordinal": 6, "approve": True, "effective_date": ON.isoformat(), "record_data": data},
        "11",
    )
    assert inbox_drain() == 3
    transfer.refresh_from_db()
    assert transfer.state == CrossState.COMPLETED
    student = Student.objects.get(pk=b["record"])
    assert (student.state, student.school_id) == (RecordState.ENROLLED, b["school"].pk)
    assert Outbox.objects.filter(topic="transfer.received").count() == 1


def test_a_rejection_that_came_first_ends_a_withdrawal_too(beijing) -> None:
    b = beijing
    transfer = _filed_in_11(b)
    cross_transfer_decide(actor=b["county"], transfer_id=transfer.pk, approve=True)
    cross_transfer_decide(actor=b["province"], transfer_id=transfer.pk, approve=True)
    transfers.cross_transfer_withdraw(actor=b["registrar"], transfer_id=transfer.pk)
    _from_hub(
        transfer.pk, "transfer.step", {"ordinal": 4, "approve": False, "reason": "未结业"}, "11"
    )
    assert inbox_drain() == 1
    transfer.refresh_from_db()
    assert (transfer.state, transfer.refusal) == (CrossState.REJECTED, "未结业")


def test_the_hub_forwards_a_withdrawal_and_a_receipt_in_their_streams() -> None:
    transfer_id = uuid.uuid4()
    with _node("11"), transaction.atomic():
        for topic in ("transfer.withdraw", "transfer.received"):
            message_send(
                topic=topic,
                payload={"transfer": str(transfer_id), "to": "44"},
                destination="00",
                stream=f"transfer:{transfer_id}",
            )
    with as_hub():
        assert inbox_drain() == 2 and inbox_drain() == 0
    assert [(m.topic, m.stream) for m in HubOutbox.objects.order_by("seq")] == [
        ("transfer.withdraw", f"transfer:{transfer_id}:44"),
        ("transfer.received", f"transfer:{transfer_id}:44"),
    ]


# ---- the filing's page and endpoint take the documents -----------------------------------------


def test_the_filing_page_and_endpoint_take_the_documents(beijing) -> None:
    import base64

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from xueji.federation.models import CrossEvidence
    from xueji.testing.api import api_as

    b = beijing
    client = Client()
    client.force_login(b["registrar"])
    form = {
        "student_number": b["number"],
        "name": "张春铭",
        "to_class_id": b["class"].pk,
        "reason": "随父母工作调动",
    }
    missing = client.post("/federation/transfers/new/", form)
    assert missing.status_code == 400 and "guardian_request" in missing.content.decode()
    filed = client.post(
        "/federation/transfers/new/",
        {
            **form,
            "guardian_request": SimpleUploadedFile("申请.pdf", PDF),
            "evidence": [SimpleUploadedFile("居住证.pdf", PDF + b"2")],
        },
    )
    assert filed.status_code == 302, filed.content.decode()
    transfer = CrossTransfer.objects.get()
    assert CrossEvidence.objects.filter(transfer=transfer).count() == 2
    page = client.get(filed["Location"]).content.decode()
    assert "申请.pdf" in page and "居住证.pdf" in page
    # Withdrawn, the child is filed again on the API: the files base64-encoded, refused if not.
    transfers.cross_transfer_withdraw(actor=b["registrar"], transfer_id=transfer.pk)
    _from_hub(transfer.pk, "transfer.withdrawn", {}, "11")
    assert inbox_drain() == 1
    api = api_as(b["registrar"], language="en")
    body = {**form, "guardian_request": {"name": "申请.pdf", "content_base64": "not base64!"}}
    refused = api.post("/api/federation/transfers", body)
    assert refused.status_code == 400 and "guardian_request" in refused.text
    body["guardian_request"]["content_base64"] = base64.b64encode(PDF).decode()
    answer = api.post("/api/federation/transfers", body)
    assert answer.status_code == 201, answer.text
    assert [d["purpose"] for d in answer.json()["evidence"]] == ["guardian_request"]
