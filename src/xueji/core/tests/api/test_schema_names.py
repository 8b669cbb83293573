"""The OpenAPI document names each schema by its class name: two apps' classes of one name share
one entry, and one app's responses are then described (and validated by the fuzzer) with the
other's fields. Every API schema class has a name of its own."""

from __future__ import annotations

from collections import defaultdict

from ninja import Schema


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_no_two_api_schemas_share_a_name() -> None:
    import config.api  # noqa: F401  (loads every app's router and its schemas)

    modules_by_name: dict[str, set[str]] = defaultdict(set)
    for schema in _subclasses(Schema):
        module = schema.__module__
        if module.startswith("xueji.") and ".tests" not in module:
            modules_by_name[schema.__name__].add(module)
    shared = {name: sorted(mods) for name, mods in modules_by_name.items() if len(mods) > 1}
    assert not shared, f"schema names used by more than one module: {shared}"
