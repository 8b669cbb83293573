from xueji.access.tests.fixtures import school, today  # noqa: F401
