"""When a designated registrar (学籍管理员) leaves, everything still open under their name (changes
filed, corrections asked for, imports queued or running) passes to the successor in one audited
step; until then the account keeps its role and cannot be removed."""

from __future__ import annotations

import pytest

from xueji.access.handover import open_item_kinds
from xueji.access.models import Role
from xueji.access.tests.world import PDF, ensure_terms
from xueji.accounts.administration.selectors import account_detail, open_items
from xueji.accounts.administration.services import (
    AccountData,
    account_edit,
    account_remove,
    account_seal,
    open_items_hand_over,
)
from xueji.audit.models import AuditEntry
from xueji.changes.models import ChangeRequest, ChangeState
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.corrections.models import CorrectionRequest
from xueji.corrections.workflow import State
from xueji.imports.models import ImportJob, JobState
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, member, student_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def leaving(area):
    """A registrar of 福田第一小学 with a change filed, a correction asked for and an import
    queued (and one of each finished, which stays), and a successor at the same school."""
    from xueji.changes.services import change_file
    from xueji.corrections.evidence import Upload

    ensure_terms(2026)
    registrar = member(Role.REGISTRAR, school=area.school, username="old_reg")
    school_class = SchoolClassFactory(school=area.school, grade=1)
    pupils = [
        student_register(
            actor=registrar, school_class_id=school_class.pk, data=student_data(name=name)
        ).student
        for name in ("张春铭", "李小红")
    ]
    change = change_file(
        actor=registrar,
        student_id=pupils[0].pk,
        kind="suspend",
        reason="病休",
        guardian_request=Upload("申请书.pdf", PDF),
    )
    correction = CorrectionRequest.objects.create(
        student=pupils[1],
        school=area.school,
        state=State.PENDING_SCHOOL,
        changes={"name": {"before": "李小红", "after": "李晓红"}},
        reason="户口簿",
        created_by=registrar,
    )
    closed = CorrectionRequest.objects.create(
        student=pupils[0], school=area.school, state=State.REJECTED, created_by=registrar
    )
    queued, done = (
        ImportJob.objects.create(
            school=area.school,
            purpose="students",
            state=state,
            sha256=str(number) * 64,
            filename="students.xlsx",
            kind="xlsx",
            created_by=registrar,
        )
        for number, state in ((1, JobState.QUEUED), (2, JobState.IMPORTED))
    )
    successor = member(Role.REGISTRAR, school=area.school, username="new_reg")
    return {
        "registrar": registrar,
        "successor": successor,
        "change": change,
        "correction": correction,
        "closed": closed,
        "queued": queued,
        "done": done,
    }


def test_every_domain_registers_its_open_items():
    assert [kind.key for kind in open_item_kinds()] == ["changes", "corrections", "imports"]


def test_the_open_items_pass_to_the_successor_in_one_audited_step(area, leaving, county_approver):
    registrar, successor = leaving["registrar"], leaving["successor"]
    assert {items.kind.key: len(items.ids) for items in open_items(registrar)} == {
        "changes": 1,
        "corrections": 1,
        "imports": 1,
    }
    detail = account_detail(county_approver, registrar.pk)
    assert detail.successors == [successor]
    handed = open_items_hand_over(
        actor=county_approver, from_user_id=registrar.pk, to_user_id=successor.pk
    )
    assert handed.count == 3
    assert ChangeRequest.objects.get(pk=leaving["change"].pk).filed_by == successor
    assert CorrectionRequest.objects.get(pk=leaving["correction"].pk).created_by == successor
    assert ImportJob.objects.get(pk=leaving["queued"].pk).created_by == successor
    # What is finished stays as it was: who did it does not change.
    assert CorrectionRequest.objects.get(pk=leaving["closed"].pk).created_by == registrar
    assert ImportJob.objects.get(pk=leaving["done"].pk).created_by == registrar
    assert open_items(registrar) == []
    entry = AuditEntry.objects.get(action="account.hand_over")
    assert entry.actor == county_approver
    assert entry.detail["from"] == "old_reg" and entry.detail["to"] == "new_reg"
    assert entry.detail["items"] == {
        "changes": [str(leaving["change"].pk)],
        "corrections": [str(leaving["correction"].pk)],
        "imports": [str(leaving["queued"].pk)],
    }
    # The predecessor can now leave.
    account_remove(actor=county_approver, user_id=registrar.pk, reason="调离")
    with pytest.raises(Conflict):
        open_items_hand_over(
            actor=county_approver, from_user_id=registrar.pk, to_user_id=successor.pk
        )


def test_an_account_with_open_items_is_neither_removed_nor_moved(area, leaving, county_approver):
    registrar = leaving["registrar"]
    with pytest.raises(Conflict) as caught:
        account_remove(actor=county_approver, user_id=registrar.pk, reason="调离")
    assert caught.value.code == "open_items"
    with pytest.raises(Conflict):
        account_edit(
            actor=county_approver,
            user_id=registrar.pk,
            data=AccountData(name="x", role=Role.PRINCIPAL, school_code=area.school.code),
        )
    # A seal is allowed (the items wait), and its name and phone can be corrected.
    account_edit(
        actor=county_approver,
        user_id=registrar.pk,
        data=AccountData(name="老王", role=Role.REGISTRAR, school_code=area.school.code),
    )
    account_seal(actor=county_approver, user_id=registrar.pk)
    assert ChangeRequest.objects.get(pk=leaving["change"].pk).state in (
        ChangeState.PENDING,
        ChangeState.HELD,
    )


def test_the_successor_holds_the_same_role_at_the_same_school_and_is_in_use(
    area, leaving, county_approver
):
    registrar, successor = leaving["registrar"], leaving["successor"]
    principal = member(Role.PRINCIPAL, school=area.school)
    other_school = member(Role.REGISTRAR, school=area.nanshan_school)
    another_futian_school = member(
        Role.REGISTRAR, school=SchoolClassFactory(school__county=area.futian).school
    )
    for wrong in (principal, another_futian_school):
        with pytest.raises(FieldErrors):
            open_items_hand_over(
                actor=county_approver, from_user_id=registrar.pk, to_user_id=wrong.pk
            )
    with pytest.raises(NotFound):  # outside the approver's area
        open_items_hand_over(
            actor=county_approver, from_user_id=registrar.pk, to_user_id=other_school.pk
        )
    with pytest.raises(FieldErrors):
        open_items_hand_over(
            actor=county_approver, from_user_id=registrar.pk, to_user_id=registrar.pk
        )
    account_seal(actor=county_approver, user_id=successor.pk)
    with pytest.raises(FieldErrors):
        open_items_hand_over(
            actor=county_approver, from_user_id=registrar.pk, to_user_id=successor.pk
        )
    assert ChangeRequest.objects.get(pk=leaving["change"].pk).filed_by == registrar


def test_only_an_account_manager_of_the_area_hands_over(area, leaving):
    from xueji.access.scope import PermissionRefused

    registrar, successor = leaving["registrar"], leaving["successor"]
    with pytest.raises(PermissionRefused):
        open_items_hand_over(actor=successor, from_user_id=registrar.pk, to_user_id=successor.pk)
    nanshan = member(Role.BUREAU_APPROVER, division=area.nanshan)
    with pytest.raises(NotFound):
        open_items_hand_over(actor=nanshan, from_user_id=registrar.pk, to_user_id=successor.pk)


def test_the_hand_over_page_and_the_api_pass_the_items(area, leaving, county_approver):
    """Issue 19: the hand-over offers the successors on its page and passes the items from it;
    the API does the same and says what passed."""
    from django.test import Client

    from xueji.testing.api import api_as

    registrar, successor = leaving["registrar"], leaving["successor"]
    page = Client()
    page.force_login(county_approver)
    form = page.get(f"/accounts/{registrar.pk}/hand-over/")
    assert form.status_code == 200 and f'value="{successor.pk}"' in form.content.decode()
    handed = page.post(f"/accounts/{registrar.pk}/hand-over/", {"successor": successor.pk})
    assert handed.status_code == 302 and handed.url == f"/accounts/{registrar.pk}/"
    assert ChangeRequest.objects.get(pk=leaving["change"].pk).filed_by == successor
    assert open_items(registrar) == []

    # Back through the API (the successor leaves in turn): what passed is named by kind.
    answer = api_as(county_approver).post(
        f"/api/accounts/{successor.pk}/hand-over", {"successor_id": registrar.pk}
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["passed"] == {
        "changes": [str(leaving["change"].pk)],
        "corrections": [str(leaving["correction"].pk)],
        "imports": [str(leaving["queued"].pk)],
    }
    assert CorrectionRequest.objects.get(pk=leaving["correction"].pk).created_by == registrar
    assert AuditEntry.objects.filter(action="account.hand_over").count() == 2
