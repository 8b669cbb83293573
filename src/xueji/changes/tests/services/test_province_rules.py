"""Province rules as versions: the ministry and the province edit them, each change a new
version with who, when and why; the settings are the defaults; a transfer obeys the version in
force on the day it is filed."""

import pytest

from xueji.access.models import Role
from xueji.access.scope import PermissionRefused
from xueji.audit.models import AuditEntry
from xueji.changes.models import ChangeState, ProvinceRuleVersion
from xueji.changes.services import province_rules_save
from xueji.changes.tests.services.test_transfer import file
from xueji.changes.tests.world import DONGCHENG, FUTIAN, ZHUHAI, build_world, enrol
from xueji.changes.windows import province_rules
from xueji.core.errors import FieldErrors, NotFound
from xueji.geo.models import Division
from xueji.testing.factories import member

pytestmark = pytest.mark.django_db

SAME_GRADE = {"no_transfer_in_graduating_grade": False, "same_grade_only": True}


@pytest.fixture
def world(settings):
    settings.XUEJI_CHANGE_CLOSED_PERIODS = {}
    settings.XUEJI_PROVINCE_RULES = {"44": {"no_transfer_in_graduating_grade": True}}
    return build_world((ZHUHAI, FUTIAN, DONGCHENG))


def test_each_change_is_a_version_and_the_latest_is_in_force(world):
    guangdong = world.approvers["440000"]
    # The settings first.
    assert province_rules("44").no_transfer_in_graduating_grade
    first = province_rules_save(
        actor=guangdong, province_code="44", rules=SAME_GRADE, reason="粤教基〔2026〕12号"
    )
    assert (first.version, first.rules) == (1, SAME_GRADE)
    rules = province_rules("440304")
    assert rules.same_grade_only and not rules.no_transfer_in_graduating_grade
    ministry = member(Role.BUREAU_APPROVER)
    second = province_rules_save(
        actor=ministry,
        province_code="440000",
        rules={**SAME_GRADE, "same_grade_only": False},
        reason="教育部统一要求",
    )
    assert second.version == 2 and not province_rules("44").same_grade_only
    history = list(ProvinceRuleVersion.objects.filter(province_id="440000").order_by("version"))
    assert [(v.version, v.created_by, v.reason) for v in history] == [
        (1, guangdong, "粤教基〔2026〕12号"),
        (2, ministry, "教育部统一要求"),
    ]
    entry = AuditEntry.objects.filter(action="province_rules.save").order_by("at").last()
    assert entry.before == SAME_GRADE and entry.after["same_grade_only"] is False


def test_a_transfer_obeys_the_version_in_force(world):
    child = enrol(world.site(ZHUHAI))
    province_rules_save(
        actor=world.approvers["440000"], province_code="44", rules=SAME_GRADE, reason="通知"
    )
    with pytest.raises(FieldErrors) as refused:
        file(world, child, FUTIAN, grade=2)
    assert refused.value.errors["to_class"][0].code == "same_grade_only"
    assert file(world, child, FUTIAN, grade=1).state == ChangeState.PENDING


@pytest.mark.parametrize(
    ("rules", "reason", "field", "code"),
    [
        ({**SAME_GRADE, "same_grade_onyl": True}, "x", "same_grade_onyl", "unknown_key"),
        ({**SAME_GRADE, "same_grade_only": "yes"}, "x", "same_grade_only", "wrong_type"),
        ({"same_grade_only": True}, "x", "no_transfer_in_graduating_grade", "missing"),
        ({**SAME_GRADE, "closed": []}, "x", "closed", "use_closed_periods"),
        (SAME_GRADE, "  ", "reason", "required"),
        ({**SAME_GRADE, "no_transfer_in_graduating_grade": True, "same_grade_only": False},
         "x", "__all__", "no_change"),
    ],
)  # fmt: skip
def test_wrong_rules_are_refused_next_to_the_field(world, rules, reason, field, code):
    with pytest.raises(FieldErrors) as refused:
        province_rules_save(
            actor=world.approvers["440000"], province_code="44", rules=rules, reason=reason
        )
    assert refused.value.errors[field][0].code == code
    assert not ProvinceRuleVersion.objects.exists()


def test_who_may_change_which_rules(world):
    guangdong = Division.objects.get(code="440000")
    for refused in (
        world.approvers[FUTIAN],  # a county, even of the province
        member(Role.BUREAU_VIEWER, division=guangdong),
        member(Role.ADMIN),
        member(Role.ADMIN, division=guangdong, level="province"),
        world.site(FUTIAN).registrar,
    ):
        with pytest.raises(PermissionRefused):
            province_rules_save(actor=refused, province_code="44", rules=SAME_GRADE, reason="x")
    # A province never another's.
    with pytest.raises(NotFound):
        province_rules_save(
            actor=world.approvers["110000"], province_code="44", rules=SAME_GRADE, reason="x"
        )
    with pytest.raises(NotFound):
        province_rules_save(
            actor=member(Role.BUREAU_APPROVER), province_code="99", rules=SAME_GRADE, reason="x"
        )
    assert not ProvinceRuleVersion.objects.exists()
