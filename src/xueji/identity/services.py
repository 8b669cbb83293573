"""Every write of the identity app: the roll's loads and the province's setting, the duplicate
pairs' decisions (merge with evidence, not the same child, undo) and the 有人无籍 list's outcomes.
Each runs in one transaction with its audit entry."""

from __future__ import annotations

import datetime
import time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import Scope, require
from xueji.audit.services import audit_record
from xueji.changes.windows import add_working_days
from xueji.core.errors import Conflict, FieldErrors, NotFound, ServiceError
from xueji.corrections.evidence import MAX_FILES, Upload, check_upload, seal
from xueji.identity import roll as roll_module
from xueji.identity.matching import Match
from xueji.identity.models import (
    OPEN_PAIR_STATES,
    DuplicatePair,
    PairEvidence,
    PairState,
    ProvinceIdentityRule,
    RollLoad,
    RollLoadState,
    UnrecordedChild,
    UnrecordedState,
)
from xueji.students.merge import (
    KEEP_ABSORBED,
    KEEP_SURVIVOR,
    records_merge,
    records_merge_undo,
    records_moved_since_merge,
)
from xueji.students.models import UNREGISTERED_STATES, NumberKind, Student
from xueji.students.numbering import records_confirm_identity

DECISION_WORKING_DAYS = 10
UNDO_DAYS = 30
SAME, NOT_SAME = "same", "not_same"
NUMBER_RANK: dict[str, int] = {NumberKind.G: 0, NumberKind.L: 1, NumberKind.J: 2}


def _province_of(scope: Scope) -> str:
    code = scope.division_code or ""
    return code[:2] + "0000"


# ---- the province's setting and the roll -------------------------------------------------------


def identity_rule_set(
    *, actor: Any, population_check: bool, county_review: bool | None = None
) -> ProvinceIdentityRule:
    """Turn the population check (L numbers for registrations the roll does not confirm) and
    the county review of new registrations (县级审核; unchanged when None) on or off for the
    actor's province. The audit trail keeps every change with its before and after."""
    scope = require(actor, Action.IDENTITY_SETTINGS)
    with transaction.atomic():
        rule, _created = ProvinceIdentityRule.objects.select_for_update().get_or_create(
            province_code=_province_of(scope)
        )
        before = {"population_check": rule.population_check, "county_review": rule.county_review}
        rule.population_check = population_check
        if county_review is not None:
            rule.county_review = county_review
        rule.changed_by = actor
        rule.save()
        audit_record(
            actor=actor,
            action="identity.settings",
            object_type="province",
            detail={"province": rule.province_code},
            before=before,
            after={"population_check": rule.population_check, "county_review": rule.county_review},
        )
    return rule


def roll_load(*, actor: Any, file_name: str, content: bytes, incremental: bool = False) -> RollLoad:
    """Load a population roll file for the actor's province: all or nothing, and resumable. A
    refused file is kept as a refused load with its errors; a good one is sealed and staged in
    committed batches (the load's checkpoint), then in one transaction merged into the roll,
    every record of the province re-checked, L numbers confirmed turned into G, and the 有人无籍
    list brought up to date: nothing of it is seen before that transaction commits. A load
    interrupted (its worker killed) is resumed by loading the same file again: its staged
    batches are kept and staging goes on from the last one."""
    scope = require(actor, Action.IDENTITY_ROLL_LOAD)
    province = _province_of(scope)
    digest = roll_module.content_digest(content)
    started = time.perf_counter()
    try:
        rows = roll_module.parse(roll_module.rows_of(content, file_name), province_code=province)
    except roll_module.RollRefused as refused:
        with transaction.atomic():
            load = RollLoad.objects.create(
                province_code=province,
                file_name=file_name[:255],
                sha256=digest,
                incremental=incremental,
                state=RollLoadState.REFUSED,
                errors=refused.errors,
                loaded_by=actor,
                finished_at=timezone.now(),
            )
            audit_record(
                actor=actor,
                action="identity.roll_refused",
                object_type="roll_load",
                object_id=load.pk,
                detail={"file": file_name, "errors": len(refused.errors)},
            )
        return load
    checked = round(time.perf_counter() - started, 3)
    # The same file of the province left half loaded: go on with it.
    unfinished = (
        RollLoad.objects.filter(
            province_code=province,
            sha256=digest,
            incremental=incremental,
            state=RollLoadState.LOADING,
        )
        .order_by("-started_at")
        .first()
    )
    resumed_from = unfinished.rows if unfinished is not None else 0
    if unfinished is not None:
        load = unfinished
    else:
        with transaction.atomic():
            load = RollLoad.objects.create(
                province_code=province,
                file_name=file_name[:255],
                sha256=digest,
                incremental=incremental,
                loaded_by=actor,
            )
            audit_record(
                actor=actor,
                action="identity.roll_load_started",
                object_type="roll_load",
                object_id=load.pk,
                detail={"file": file_name, "rows": len(rows), "incremental": incremental},
            )
    started = time.perf_counter()
    roll_module.stage(load, rows)
    staged = round(time.perf_counter() - started, 3)
    with transaction.atomic():
        load = RollLoad.objects.select_for_update().get(pk=load.pk)
        if load.state != RollLoadState.LOADING:
            return load  # another worker finished it meanwhile
        timings = roll_module.load_rows(load, rows)
        confirmed = roll_module.confirmed_l_numbers(province_code=province)
        changed = records_confirm_identity(actor=actor, student_ids=confirmed)
        load.state = RollLoadState.LOADED
        load.rows = len(rows)
        load.timings = {
            "check": checked,
            "seal_stage": staged,
            **timings,
            "l_to_g": changed,
            "resumed_from": resumed_from,
        }
        load.finished_at = timezone.now()
        load.save()
        audit_record(
            actor=actor,
            action="identity.roll_load",
            object_type="roll_load",
            object_id=load.pk,
            detail={
                "file": file_name,
                "rows": len(rows),
                "incremental": incremental,
                "resumed_from": resumed_from,
            },
        )
    return load


def roll_covers(province_code: str) -> bool:
    return RollLoad.objects.filter(province_code=province_code, state=RollLoadState.LOADED).exists()


def registration_needs_l_number(school: Any, data: Any) -> bool:
    """The policy students' registration asks (xueji.students.numbering): an L number where the
    school's province checks identities and the roll does not confirm the child now."""
    province = school.province_id
    if not ProvinceIdentityRule.objects.filter(
        province_code=province, population_check=True
    ).exists():
        return False
    from xueji.core import codes
    from xueji.identity.models import RollEntry
    from xueji.students.identity import document_indexes
    from xueji.students.names import names_match

    entry = RollEntry.objects.filter(
        id_number_index__in=document_indexes(codes.IdDocType.RESIDENT_ID, data.id_number)
    ).first()
    return not (
        entry is not None
        and names_match(data.name, entry.name)
        and entry.sex == data.sex
        and entry.birth_date == data.birth_date
    )


def registration_needs_review(school: Any) -> bool:
    """The policy students' registration asks (xueji.students.numbering): does a new
    registration at the school wait for its county's review (县级审核)?"""
    return ProvinceIdentityRule.objects.filter(
        province_code=school.province_id, county_review=True
    ).exists()


def registration_withdrawn(student: Student) -> None:
    """After a registration under review is withdrawn (its transaction): the open pairs it was
    in are closed; nobody decides about a record that never was."""
    from django.db.models import Q

    DuplicatePair.objects.filter(
        Q(student_a=student) | Q(student_b=student), state__in=OPEN_PAIR_STATES
    ).update(state=PairState.WITHDRAWN)


def registration_identity_check(student: Student) -> None:
    """After a registration (its transaction): the record's identity status, where a roll
    covers its household's province."""
    from_id = student.id_number_masked[:6] if student.id_doc_type == "1" else ""
    household = (student.hukou_division_id or from_id or "")[:2]
    if not household:
        household = student.school.county_id[:2]
    province = household + "0000"
    if roll_covers(province):
        roll_module.status_recompute(province_code=province, student_ids=[student.pk])


# ---- duplicate pairs ---------------------------------------------------------------------------


def pairs_propose(matches: list[Match], counties: dict[str, str]) -> int:
    """New pairs from the scan's matches (a pair seen before, whatever became of it, is never
    proposed again). Returns how many are new."""
    due = add_working_days(timezone.localdate(), DECISION_WORKING_DAYS)
    before = DuplicatePair.objects.count()
    DuplicatePair.objects.bulk_create(
        [
            DuplicatePair(
                student_a_id=match.a,
                student_b_id=match.b,
                county_a=counties.get(match.a, ""),
                county_b=counties.get(match.b, ""),
                score=match.score,
                contributions=match.contributions,
                due_on=due,
            )
            for match in matches
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    return DuplicatePair.objects.count() - before


def _city(county: str) -> str:
    return county[:4] + "00"


def _province(county: str) -> str:
    return county[:2] + "0000"


def deciding_areas(pair: DuplicatePair) -> list[str]:
    """The areas whose approvers decide the pair now: both counties while proposed; once
    escalated, the bureau above both (the city, else the province), or both provinces."""
    if pair.state == PairState.PROPOSED:
        return sorted({pair.county_a, pair.county_b})
    if _city(pair.county_a) == _city(pair.county_b):
        return [_city(pair.county_a)]
    return sorted({_province(pair.county_a), _province(pair.county_b)})


def area_prefix(scope: Scope | None) -> str | None:
    """The prefix of the county codes in the scope's area ("" for the nation; None when the
    scope is a school's or there is none)."""
    if scope is None:
        return None
    code = scope.division_code or ""
    prefixes: dict[str, str] = {
        ScopeLevel.NATION: "",
        ScopeLevel.PROVINCE: code[:2],
        ScopeLevel.CITY: code[:4],
        ScopeLevel.COUNTY: code,
    }
    return prefixes.get(scope.level)


def pair_in_area(scope: Scope | None, pair: DuplicatePair) -> bool:
    prefix = area_prefix(scope)
    return prefix is not None and (
        pair.county_a.startswith(prefix) or pair.county_b.startswith(prefix)
    )


def may_decide(scope: Scope | None, pair: DuplicatePair) -> bool:
    if scope is None or pair.state not in OPEN_PAIR_STATES:
        return False
    level = ScopeLevel.COUNTY if pair.state == PairState.PROPOSED else None
    if level is not None and scope.level != level:
        return False
    return (scope.division_code or "") in deciding_areas(pair)


def _locked_pair(actor: Any, pair_id: Any, action: str) -> tuple[Scope, DuplicatePair]:
    scope = require(actor, action)
    pair = DuplicatePair.objects.select_for_update().filter(pk=pair_id).first()
    if pair is None:
        raise NotFound("pair_not_found", _("No such pair."))
    return scope, pair


def _evidence_checked(uploads: list[Upload]) -> list[Any]:
    if not uploads:
        raise FieldErrors(
            {
                "evidence": [
                    ValidationError(
                        _("Attach the evidence (佐证) of the school the child attends."),
                        code="evidence_required",
                    )
                ]
            }
        )
    if len(uploads) > MAX_FILES:
        raise FieldErrors(
            {
                "evidence": [
                    ValidationError(
                        _("At most %(count)d files.") % {"count": MAX_FILES}, code="too_many"
                    )
                ]
            }
        )
    checked = []
    for upload in uploads:
        try:
            checked.append(check_upload(upload))
        except ValidationError as refused:
            raise FieldErrors({"evidence": [refused]}) from None
    return checked


def pair_decide(
    *,
    actor: Any,
    pair_id: Any,
    decision: str,
    attends: str = "",
    evidence: list[Upload] | None = None,
    note: str = "",
) -> DuplicatePair:
    """A county's (or, escalated, the bureau above's) decision on a pair: `same` (the child
    attends record `attends`' school, proved by `evidence`) or `not_same`. Where two areas
    decide, both must agree: the first decision waits for the other, a disagreement sends the
    pair to the bureau above both. When the decision is final the records are merged."""
    scope = require(actor, Action.DUPLICATE_DECIDE)
    found = DuplicatePair.objects.filter(pk=pair_id).first()
    if found is None or not pair_in_area(scope, found):
        raise NotFound("pair_not_found", _("No such pair."))
    if decision not in (SAME, NOT_SAME):
        raise FieldErrors(
            {"decision": [ValidationError(_("Decide same or not_same."), code="decision")]}
        )
    if decision == SAME and attends not in ("a", "b"):
        raise FieldErrors(
            {
                "attends": [
                    ValidationError(
                        _("Say which record's school the child attends."), code="attends"
                    )
                ]
            }
        )
    checked = _evidence_checked(evidence or []) if decision == SAME else []
    with transaction.atomic():
        scope, pair = _locked_pair(actor, pair_id, Action.DUPLICATE_DECIDE)
        if not pair_in_area(scope, pair):
            raise NotFound("pair_not_found", _("No such pair."))
        if not may_decide(scope, pair):
            raise Conflict(
                "not_yours_to_decide",
                _(
                    "This pair is decided by the counties of its records, or, once escalated, "
                    "by the bureau above both; it is closed once decided."
                ),
            )
        if (
            decision == SAME
            and Student.objects.filter(
                pk__in=[pair.student_a_id, pair.student_b_id], state__in=UNREGISTERED_STATES
            ).exists()
        ):
            raise Conflict(
                "registration_under_review",
                _(
                    "One of the records is a registration waiting for the county's review: "
                    "return it to its school (the child is already registered) instead of "
                    "merging."
                ),
            )
        areas = deciding_areas(pair)
        mine = scope.division_code or ""
        for file in checked:
            PairEvidence.objects.create(
                pair=pair,
                file_name=file.file_name,
                content_type=file.content_type,
                size=file.size,
                sha256=file.sha256,
                content_sealed=seal(file.content),
                uploaded_by=actor,
            )
        if len(areas) == 2:
            if mine == areas[0]:
                pair.decision_a = decision
            else:
                pair.decision_b = decision
            if decision == SAME:
                pair.attends = attends
            pair.note = note[:500]
            if not (pair.decision_a and pair.decision_b):
                pair.save()
                audit_record(
                    actor=actor,
                    action="duplicate.decide",
                    object_type="duplicate_pair",
                    object_id=pair.pk,
                    detail={"decision": decision, "waiting_for_other": True},
                )
                return pair
            if pair.decision_a != pair.decision_b:
                pair.state = PairState.ESCALATED
                pair.decision_a = pair.decision_b = ""
                pair.save()
                audit_record(
                    actor=actor,
                    action="duplicate.escalate",
                    object_type="duplicate_pair",
                    object_id=pair.pk,
                    detail={"reason": "disagreement"},
                )
                return pair
        _finalise(pair, actor=actor, decision=decision, attends=attends or pair.attends, area=mine)
        pair.note = note[:500]
        pair.save()
        audit_record(
            actor=actor,
            action="duplicate.decide",
            object_type="duplicate_pair",
            object_id=pair.pk,
            detail={"decision": decision, "attends": attends, "evidence": len(checked)},
        )
    return pair


def _finalise(pair: DuplicatePair, *, actor: Any, decision: str, attends: str, area: str) -> None:
    pair.decided_by = actor
    pair.decided_at = timezone.now()
    pair.decided_county = area
    if decision == NOT_SAME:
        pair.state = PairState.NOT_SAME
        return
    first, second = (
        Student.objects.select_for_update()
        .filter(pk__in=[pair.student_a_id, pair.student_b_id])
        .order_by("pk")
    )
    attended = first if attends == "a" else second
    # The survivor keeps the best number (G before L before J); at equal numbers, the record
    # of the school the child attends.
    survivor = min(
        (first, second),
        key=lambda record: (NUMBER_RANK.get(record.number_kind, 9), record.pk != attended.pk),
    )
    absorbed = second if survivor.pk == first.pk else first
    undo = records_merge(
        actor=actor,
        survivor=survivor,
        absorbed=absorbed,
        keep=KEEP_SURVIVOR if attended.pk == survivor.pk else KEEP_ABSORBED,
        on=timezone.localdate(),
        detail={"pair": str(pair.pk)},
    )
    pair.state = PairState.SAME
    pair.attends = attends
    pair.survivor = survivor
    pair.undo = {**undo, "absorbed": str(absorbed.pk)}


def pair_undo(*, actor: Any, pair_id: Any) -> DuplicatePair:
    """Undo a merge: by the area that decided it, within 30 days, unless either record has moved
    since (a transfer, a change of state, another merge)."""
    with transaction.atomic():
        scope, pair = _locked_pair(actor, pair_id, Action.DUPLICATE_DECIDE)
        if not pair_in_area(scope, pair):
            raise NotFound("pair_not_found", _("No such pair."))
        if pair.state != PairState.SAME or (scope.division_code or "") != pair.decided_county:
            raise Conflict(
                "not_undoable", _("Only a merge can be undone, by the bureau that decided it.")
            )
        assert pair.decided_at is not None and pair.survivor_id is not None
        if timezone.now() - pair.decided_at > datetime.timedelta(days=UNDO_DAYS):
            raise Conflict(
                "undo_too_late",
                _("A merge can be undone within %(days)d days.") % {"days": UNDO_DAYS},
            )
        survivor = Student.objects.select_for_update().get(pk=pair.survivor_id)
        absorbed = Student.objects.select_for_update().get(pk=pair.undo["absorbed"])
        if records_moved_since_merge(
            survivor=survivor, absorbed=absorbed, undo=pair.undo, merged_at=pair.decided_at
        ):
            raise Conflict(
                "moved_since",
                _("A record has moved since the merge; the merge can no longer be undone."),
            )
        records_merge_undo(
            actor=actor,
            survivor=survivor,
            absorbed=absorbed,
            undo=pair.undo,
            on=timezone.localdate(),
        )
        pair.state = PairState.UNDONE
        pair.save(update_fields=["state"])
        audit_record(
            actor=actor,
            action="duplicate.undo",
            object_type="duplicate_pair",
            object_id=pair.pk,
        )
    return pair


def pairs_escalate_overdue(*, today: datetime.date | None = None) -> int:
    """Pairs undecided after their 10 working days go to the bureau above both (nightly)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        overdue = list(
            DuplicatePair.objects.select_for_update()
            .filter(state=PairState.PROPOSED, due_on__lt=today)
            .values_list("pk", flat=True)
        )
        if overdue:
            DuplicatePair.objects.filter(pk__in=overdue).update(
                state=PairState.ESCALATED, decision_a="", decision_b=""
            )
            audit_record(
                actor=None,
                action="duplicate.escalate",
                object_type="duplicate_pair",
                detail={"reason": "overdue", "pairs": len(overdue)},
            )
    return len(overdue)


# ---- 有人无籍 ---------------------------------------------------------------------------------


def unrecorded_decide(
    *, actor: Any, unrecorded_id: Any, outcome: str, reason: str = ""
) -> UnrecordedChild:
    """The county's outcome for a child with no record: found, exempted (with the reason), or
    handed to dropout control (a case opened there)."""
    scope = require(actor, Action.UNRECORDED_DECIDE)
    if not UnrecordedChild.objects.filter(
        pk=unrecorded_id, county_code=scope.division_code or "-"
    ).exists():
        raise NotFound("unrecorded_not_found", _("No such child."))
    if outcome not in (
        UnrecordedState.FOUND,
        UnrecordedState.EXEMPTED,
        UnrecordedState.HANDED_OVER,
    ):
        raise FieldErrors({"outcome": [ValidationError(_("Choose an outcome."), code="outcome")]})
    if outcome == UnrecordedState.EXEMPTED and not reason.strip():
        raise FieldErrors(
            {"reason": [ValidationError(_("Give the reason of the exemption."), code="required")]}
        )
    with transaction.atomic():
        child = (
            UnrecordedChild.objects.select_for_update()
            .select_related("roll_entry")
            .filter(pk=unrecorded_id, county_code=scope.division_code or "-")
            .first()
        )
        if child is None:
            raise NotFound("unrecorded_not_found", _("No such child."))
        if child.state != UnrecordedState.OPEN:
            raise Conflict("already_decided", _("This child's outcome is already recorded."))
        if outcome == UnrecordedState.HANDED_OVER:
            child.case_reference = _hand_over(actor, child, reason)
        child.state = outcome
        child.reason = reason.strip()[:500]
        child.decided_by = actor
        child.decided_at = timezone.now()
        child.save()
        audit_record(
            actor=actor,
            action="unrecorded.decide",
            object_type="unrecorded_child",
            object_id=child.pk,
            detail={"outcome": outcome},
        )
    return child


def _hand_over(actor: Any, child: UnrecordedChild, note: str) -> str:
    try:
        from xueji.attendance.services import case_open_for_unrecorded_child
    except ImportError:
        raise ServiceError(
            "dropout_control_unavailable",
            _("Dropout control is not available; record another outcome."),
        ) from None
    entry = child.roll_entry
    case = case_open_for_unrecorded_child(
        actor=actor,
        county_code=child.county_code,
        name=entry.name,
        sex=entry.sex,
        birth_date=entry.birth_date,
        reference=str(child.roll_entry_id),
        note=note,
    )
    return str(getattr(case, "pk", case))[:64]
