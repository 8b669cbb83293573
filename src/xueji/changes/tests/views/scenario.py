"""The scene of the read-side tests, dated today (the pages act on today's date): a child in
grade 2 at a school of 福田区 (深圳, 广东), a receiving school in 东城区 (北京), a third school in
南山区 (广东) and one in 香洲区 (珠海, 广东); a registrar and a principal at each school, a class
teacher at the sender, a bureau approver for each county and province, and a bureau viewer of
深圳市. No closed period is in force, whatever today is."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from xueji.access.models import Role
from xueji.access.scope import today
from xueji.changes.models import ChangeRequest, ChangeState, StepState
from xueji.changes.services import change_decide, change_file, transfer_file
from xueji.changes.tests.world import (
    DONGCHENG,
    FUTIAN,
    NANSHAN,
    ZHUHAI,
    Site,
    build_site,
    certificate,
    guardian_request,
)
from xueji.geo.models import Division
from xueji.schools.models import academic_start_year
from xueji.students.models import Student
from xueji.students.services import student_register
from xueji.testing.factories import member, student_data
from xueji.testing.pages import client_as as logged_in

YEAR = academic_start_year(today())


@dataclass
class Scene:
    sender: Site  # 福田区
    receiver: Site  # 东城区, another province
    nanshan: Site  # 南山区, the sender's province
    zhuhai: Site  # 香洲区, the sender's province
    approvers: dict[str, Any]  # division code -> bureau approver
    class_teacher: Any
    shenzhen_viewer: Any
    child: Student

    def klass(self, site: Site, grade: int = 2, number: int = 1) -> Any:
        return site.klass(grade, number, YEAR)


def enrol(site: Site, name: str, grade: int = 2) -> Student:
    birth = datetime.date(YEAR - 6 - (grade - 1), 3, 5)
    return student_register(
        actor=site.registrar,
        school_class_id=site.klass(grade, 1, YEAR).pk,
        data=student_data(name=name, birth_date=birth),
    ).student


def build_scene() -> Scene:
    sites = {
        c: build_site(c, grades=(1, 2, 3), years=(YEAR,))
        for c in (FUTIAN, DONGCHENG, NANSHAN, ZHUHAI)
    }
    approvers: dict[str, Any] = {}
    for county in sites:
        approvers[county] = member(Role.BUREAU_APPROVER, division=Division.objects.get(code=county))
        province = county[:2] + "0000"
        if province not in approvers:
            approvers[province] = member(
                Role.BUREAU_APPROVER, division=Division.objects.get(code=province)
            )
    sender = sites[FUTIAN]
    class_teacher = member(Role.CLASS_TEACHER, school=sender.school)
    return Scene(
        sender=sender,
        receiver=sites[DONGCHENG],
        nanshan=sites[NANSHAN],
        zhuhai=sites[ZHUHAI],
        approvers=approvers,
        class_teacher=class_teacher,
        shenzhen_viewer=member(Role.BUREAU_VIEWER, division=Division.objects.get(code="440300")),
        child=enrol(sender, "张春铭"),
    )


def file_transfer(scene: Scene, student: Student, receiver: Site | None = None) -> ChangeRequest:
    receiver = receiver or scene.receiver
    return transfer_file(
        actor=receiver.registrar,
        student_number=student.reveal_student_number(),
        name=student.name,
        to_class_id=receiver.klass(2, 1, YEAR).pk,
        reason="随父母工作调动",
        guardian_request=guardian_request(),
    )


def file_suspension(site: Site, student: Student) -> ChangeRequest:
    return change_file(
        actor=site.registrar,
        student_id=student.pk,
        kind="suspend",
        reason="病休",
        guardian_request=guardian_request(),
        evidence=[certificate()],
    )


def party_of(scene: Scene, change: ChangeRequest) -> Any:
    """The user who decides the current step (a school's principal, or the bureau approver)."""
    step = change.steps.get(state=StepState.PENDING)
    if step.level == "school":
        for site in (scene.sender, scene.receiver, scene.nanshan, scene.zhuhai):
            if site.school.pk == step.school_id:
                return site.principal
    return scene.approvers[step.division_id]


def approve_until(scene: Scene, change: ChangeRequest, steps: int) -> ChangeRequest:
    for _ in range(steps):
        change = change_decide(actor=party_of(scene, change), change_id=change.pk, approve=True)
    return change


def approve_all(scene: Scene, change: ChangeRequest) -> ChangeRequest:
    while change.state == ChangeState.PENDING:
        change = approve_until(scene, change, 1)
    return change


def client_as(user: Any, language: str = "en") -> Client:
    """A logged-in client, in English unless asked otherwise (assertions read as the msgids)."""
    return logged_in(user, language)


@pytest.fixture
def no_closed_periods(settings: Any) -> None:
    settings.XUEJI_CHANGE_CLOSED_PERIODS = {}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def scene(db: Any, no_closed_periods: None) -> Scene:
    return build_scene()
