"""The import contracts in pyproject.toml (`lint-imports`, run by `make lint`) hold every rule of
the layers, and they refuse a forbidden import.

The refusal is shown on a copy of the real contracts pointed at a tiny package tree written to a
temporary folder: one empty package per app the contracts name, and then one import that breaks
a rule. The real tree cannot be used for that: it should keep every contract.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from importlinter.api import read_configuration

PYPROJECT = Path(settings.BASE_DIR) / "pyproject.toml"
SOURCE = Path(settings.BASE_DIR) / "src" / "xueji"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
TESTS_IGNORED = "xueji.*.tests.** -> xueji.**"
PROBE = "probe"  # the generated tree's root package (xueji itself is already imported here)

WORKFLOWS = ("changes", "corrections", "verification", "scores", "yearend")
DOMAINS = ("geo", "schools", "students", *WORKFLOWS)


def _contracts() -> dict[str, dict[str, Any]]:
    config = read_configuration(str(PYPROJECT))
    assert config["session_options"]["root_packages"] == ["xueji"]
    return {contract["id"]: contract for contract in config["contracts_options"]}


def _apps_of(layer: str) -> set[str]:
    return {name.strip().strip("()").removeprefix("xueji.") for name in re.split(r"[|:]", layer)}


def _forbids(contract: dict[str, Any], source: str, forbidden: str) -> bool:
    return (
        contract["type"] == "forbidden"
        and f"xueji.{source}" in contract["source_modules"]
        and f"xueji.{forbidden}" in contract["forbidden_modules"]
    )


# ---- the real contracts ------------------------------------------------------------------------


def test_the_layers_run_from_core_at_the_bottom_to_the_demo_at_the_top():
    layers = [_apps_of(layer) for layer in _contracts()["layers"]["layers"]]

    def height(app: str) -> int:
        (found,) = [number for number, apps in enumerate(reversed(layers)) if app in apps]
        return found

    assert height("core") == 0
    assert height("core") < height("audit") < height("access") < height("geo")
    assert height("geo") < height("schools") < height("students")
    assert {height(app) for app in WORKFLOWS} == {height("students") + 1}
    assert height("exports") == height("students") + 2
    for page_level in ("stats", "imports", "trail", "accounts"):
        assert height(page_level) == height("students") + 3, page_level
    assert height("demo") == height("testing") == len(layers) - 1


def test_every_app_is_in_a_layer():
    """A new app cannot stay outside the picture: it must be given its layer."""
    in_layers = set().union(*map(_apps_of, _contracts()["layers"]["layers"]))
    apps = {init.parent.name for init in SOURCE.glob("*/__init__.py")}
    assert apps <= in_layers


def test_the_named_rules_each_have_a_contract():
    contracts = list(_contracts().values())

    def forbidden(source: str, target: str) -> bool:
        return any(_forbids(contract, source, target) for contract in contracts)

    # core is pure: no audit, no access, no domain.
    for target in ("audit", "access", *DOMAINS, "stats", "imports", "exports", "trail", "accounts"):
        assert forbidden("core", target), target
    # access asks the domains through registries instead of importing them.
    for target in DOMAINS:
        assert forbidden("access", target), target
    # audit's write side reads no domain (nor access, which writes to it).
    for target in ("access", *DOMAINS):
        assert forbidden("audit", target), target
    # the school system sits below the record.
    assert forbidden("schools", "students")
    assert forbidden("geo", "students")
    # production code never imports the demo, nor the tests' support.
    production = {init.parent.name for init in SOURCE.glob("*/__init__.py")} - {"demo", "testing"}
    for source in production:
        assert forbidden(source, "demo"), source
        assert forbidden(source, "testing"), source
    # and no two apps import each other, even through a third.
    (acyclic,) = [c for c in contracts if c["type"] == "acyclic_siblings"]
    assert acyclic["ancestors"] == ["xueji"]


def test_only_the_tests_imports_are_ignored():
    """An exception to a contract is a decision: it is made here, with the comment in
    pyproject.toml saying why, not by a line added quietly to a contract."""
    for contract in _contracts().values():
        assert contract.get("ignore_imports", []) == [TESTS_IGNORED], contract["id"]


# ---- the contracts refuse ----------------------------------------------------------------------


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return json.dumps(value)


def _renamed(value: Any) -> Any:
    """Every `xueji` in a contract's option renamed to the probe's root package."""
    if isinstance(value, list):
        return [_renamed(item) for item in value]
    if isinstance(value, str):
        return re.sub(r"\bxueji\b", PROBE, value)
    return value


def _probe_config(contracts: dict[str, dict[str, Any]]) -> str:
    """The real contracts, pointed at the probe's tree."""
    lines = ["[tool.importlinter]", f'root_package = "{PROBE}"', ""]
    for contract in contracts.values():
        lines.append("[[tool.importlinter.contracts]]")
        for key, value in contract.items():
            typed = int(value) if key == "depth" else value
            lines.append(f"{key} = {_toml(_renamed(typed))}")
        lines.append("")
    return "\n".join(lines)


@pytest.fixture
def probe(tmp_path: Path) -> Any:
    """A package per app the contracts name (each with a tests package), and a function that
    adds a module and runs lint-imports on the tree: it returns {contract id: kept?}."""
    contracts = _contracts()
    apps = set().union(*map(_apps_of, contracts["layers"]["layers"]))
    root = tmp_path / PROBE
    root.mkdir()
    (root / "__init__.py").write_text("")
    for app in apps:
        (root / app / "tests").mkdir(parents=True)
        (root / app / "__init__.py").write_text("")
        (root / app / "tests" / "__init__.py").write_text("")
    # Tests import from every layer (here core's, the demo and the record): that is not a
    # dependency of the code, and every contract ignores it.
    (root / "core" / "tests" / "test_world.py").write_text(
        f"import {PROBE}.demo\nimport {PROBE}.students\n"
    )
    config = tmp_path / "contracts.toml"
    config.write_text(_probe_config(contracts), encoding="utf-8")
    names = {_renamed(contract["name"]): key for key, contract in contracts.items()}

    def lint(**modules: str) -> dict[str, bool]:
        for dotted, source in modules.items():
            path = root.joinpath(*dotted.split("__")).with_suffix(".py")
            path.write_text(source, encoding="utf-8")
        ran = subprocess.run(
            [str(LINT_IMPORTS), str(config), "--no-cache", "--no-logo"],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        kept: dict[str, bool] = {}
        for line in ran.stdout.splitlines():
            found = re.fullmatch(r"(.+) (KEPT|BROKEN)(?: \(.*\))?", line.strip())
            if found and found.group(1) in names:
                kept[names[found.group(1)]] = found.group(2) == "KEPT"
        assert set(kept) == set(contracts), ran.stdout + ran.stderr
        assert (ran.returncode == 0) == all(kept.values()), ran.stdout + ran.stderr
        return kept

    return lint


def test_a_tree_that_follows_the_layers_keeps_every_contract(probe):
    kept = probe(
        students__models=f"from {PROBE}.schools import models\n",
        schools__models=f"from {PROBE}.geo import models\n",
        geo__models=f"from {PROBE}.access import scope\n",
        access__scope=f"from {PROBE}.audit import services\n",
        audit__services=f"from {PROBE}.core import errors\n",
        core__errors="import json\n",
        changes__services=f"from {PROBE}.corrections import workflow\n",
        corrections__workflow=f"from {PROBE}.students import models\n",
        trail__selectors=f"from {PROBE}.students import models\n",
        testing__factories=f"from {PROBE}.students import models\n",
        demo__synth=f"from {PROBE}.students import models\n",
    )
    assert all(kept.values()), kept


def test_core_importing_the_record_is_refused(probe):
    kept = probe(
        core__errors=f"from {PROBE}.students import models\n",
        students__models=f"from {PROBE}.core import codes\n",
        core__codes="",
    )
    assert not kept["layers"]
    assert not kept["core-pure"]
    assert not kept["no-cycles"]  # students → core → students


def test_access_importing_a_domain_is_refused(probe):
    kept = probe(
        access__scope=f"from {PROBE}.scores.models import TeachingAssignment\n",
        scores__models="TeachingAssignment = object\n",
    )
    assert not kept["layers"]
    assert not kept["access-no-domain"]
    assert kept["core-pure"]


def test_audit_reading_a_student_is_refused_even_through_another_module(probe):
    kept = probe(
        audit__chain=f"from {PROBE}.core import masking\n",
        core__masking=f"from {PROBE}.students import models\n",
    )
    assert not kept["audit-write-side-no-domain"]
    assert not kept["core-pure"]


def test_schools_importing_students_is_refused(probe):
    kept = probe(
        schools__selectors=f"from {PROBE}.students.selectors import class_counts\n",
        students__selectors="def class_counts(): ...\n",
    )
    assert not kept["layers"]
    assert not kept["schools-below-students"]


@pytest.mark.parametrize("target", ["demo", "testing"])
def test_production_importing_the_demo_or_the_tests_support_is_refused(probe, target):
    kept = probe(imports__pipeline=f"from {PROBE}.{target} import synth\n")
    contract = "no-demo-in-production" if target == "demo" else "no-test-support-in-production"
    assert not kept[contract]
    assert not kept["layers"]


def test_workflows_may_use_one_another_but_not_in_a_loop(probe):
    kept = probe(
        changes__services=f"from {PROBE}.corrections import workflow\n",
        corrections__workflow=f"from {PROBE}.changes import services\n",
    )
    assert kept["layers"]
    assert not kept["no-cycles"]
