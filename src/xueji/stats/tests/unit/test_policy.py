import pytest

from xueji.access.models import Role, ScopeLevel
from xueji.access.scope import Scope
from xueji.stats.policy import small_cell_threshold, suppresses_small_cells

EXACT = [
    (Role.REGISTRAR, ScopeLevel.SCHOOL),
    (Role.PRINCIPAL, ScopeLevel.SCHOOL),
    (Role.CLASS_TEACHER, ScopeLevel.SCHOOL),
    (Role.BUREAU_VIEWER, ScopeLevel.COUNTY),
    (Role.BUREAU_APPROVER, ScopeLevel.COUNTY),
    (Role.BUREAU_APPROVER, ScopeLevel.PROVINCE),
    (Role.BUREAU_APPROVER, ScopeLevel.NATION),
]
SUPPRESSED = [
    (Role.BUREAU_VIEWER, ScopeLevel.CITY),
    (Role.BUREAU_VIEWER, ScopeLevel.PROVINCE),
    (Role.BUREAU_VIEWER, ScopeLevel.NATION),
    (Role.AUDITOR, ScopeLevel.NATION),
    (Role.ADMIN, ScopeLevel.NATION),
]


@pytest.mark.parametrize(("role", "level"), EXACT)
def test_staff_with_access_to_the_records_see_exact_figures(role, level):
    assert suppresses_small_cells(Scope(role=role, level=level)) is False


@pytest.mark.parametrize(("role", "level"), SUPPRESSED)
def test_viewers_above_the_county_and_others_see_small_cells_suppressed(role, level):
    assert suppresses_small_cells(Scope(role=role, level=level)) is True


def test_no_scope_is_suppressed():
    assert suppresses_small_cells(None) is True


def test_threshold_defaults_to_5_and_is_a_setting(settings):
    assert small_cell_threshold() == 5
    settings.XUEJI_SMALL_CELL_THRESHOLD = 10
    assert small_cell_threshold() == 10
