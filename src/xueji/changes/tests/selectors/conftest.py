from xueji.changes.tests.views.scenario import no_closed_periods, scene  # noqa: F401
