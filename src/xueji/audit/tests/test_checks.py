import pytest

from xueji.audit.checks import check_retention


@pytest.mark.parametrize("days", [0, 90, 179, "365", None])
def test_a_retention_below_180_days_or_not_a_number_is_an_error(settings, days):
    settings.XUEJI_AUDIT_RETENTION_DAYS = days
    errors = check_retention()
    assert [error.id for error in errors] == ["xueji_audit.E001"]


@pytest.mark.parametrize("days", [180, 365, 3650])
def test_a_retention_of_180_days_or_more_passes(settings, days):
    settings.XUEJI_AUDIT_RETENTION_DAYS = days
    assert check_retention() == []


def test_the_check_is_registered_with_django(settings):
    from django.core import checks

    settings.XUEJI_AUDIT_RETENTION_DAYS = 30
    assert "xueji_audit.E001" in [message.id for message in checks.run_checks()]
