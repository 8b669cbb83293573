"""docs/permissions.md, rendered from the permission matrix (xueji.access.policy) and the
workflows whose steps need its actions, so that the document and the enforced rules cannot drift
apart. A workflow is documented by its app, which registers it at start-up (the key-data
correction workflow: xueji.corrections.apps); access never imports it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import translation

from xueji.access.models import SEPARATED_DUTIES, Role, ScopeLevel
from xueji.access.policy import (
    COMMON_ACTIONS,
    DUTY_ACTIONS,
    MATRIX,
    ROLE_LEVELS,
    Action,
    Limit,
    assignable_roles,
    grant,
)

LEVEL_MARKS = {
    ScopeLevel.SCHOOL: "school",
    ScopeLevel.COUNTY: "county",
    ScopeLevel.CITY: "city",
    ScopeLevel.PROVINCE: "province",
    ScopeLevel.NATION: "nation",
}
LIMIT_MARKS = {
    Limit.AREA: "",
    Limit.OWN_CLASSES_IN_WINDOW: " ¹",
    Limit.ASSIGNED_CLASSES: " ²",
    Limit.OWN_ACCOUNT: " ³",
    Limit.OWN_CLASSES: " ⁴",
}


@dataclass(frozen=True)
class DocumentedWorkflow:
    """A workflow's transitions, listed with the action each step needs and who holds it.

    transitions: (from state, or None for a new request; event) -> a step with `target` (the
    state it leads to) and `action` (the permission it needs), as xueji.core.workflow reads them.
    """

    title: str  # the section's heading, before ": who takes which step"
    source: str  # the file that defines the transitions, named in the document's header
    transitions: Mapping[tuple[Any, Any], Any]
    states: type[models.TextChoices]
    events: type[models.TextChoices]
    closing: Sequence[str] = ()  # the paragraph after the table


_workflows: dict[str, DocumentedWorkflow] = {}


def document_workflow(workflow: DocumentedWorkflow) -> None:
    """Add (or replace, by title) a workflow's section; its app calls it when ready."""
    _workflows[workflow.title] = workflow


def _header(sources: Sequence[str]) -> list[str]:
    lines = [f"<!-- Rendered by `xueji render_permissions` from {sources[0]}"]
    for number, source in enumerate(sources[1:], start=2):
        lines[-1] += " and" if number == len(sources) else ","
        lines.append(f"     {source}")
    lines[-1] += "; a test fails when this file is out of date. -->"
    return lines


def _workflow_section(workflow: DocumentedWorkflow, roles: Sequence[Role]) -> list[str]:
    states, events = workflow.states, workflow.events
    lines = [
        "",
        f"## {workflow.title}: who takes which step",
        "",
        "| from | event | to | needs | who |",
        "|---|---|---|---|---|",
    ]
    for (source, event), step in workflow.transitions.items():
        holders = ", ".join(
            f"`{role.value}`" for role in roles if grant(role, step.action) is not None
        )
        lines.append(
            f"| {states(source).label if source else '(new)'} | {events(event).label} "
            f"| {states(step.target).label} | `{step.action}` | {holders} |"
        )
    if workflow.closing:
        lines += ["", *workflow.closing]
    return lines


def _duties_section() -> list[str]:
    duties = ", ".join(f"`{role}`" for role in Role.values if role in SEPARATED_DUTIES)
    common = ", ".join(f"`{action}`" for action in Action.values if action in COMMON_ACTIONS)
    lines = [
        "",
        "## Separation of duties (三员分立)",
        "",
        "The three duties of a level-3 protected system (等保三级) are held by three people:",
        f"{duties}. A user has one membership (one row per account, a unique index), so no",
        "account holds two of them. Beyond every role's own actions (" + common + "), the",
        "security administrator and the auditor hold only their duty's actions; the system",
        "administrator holds neither of theirs, and no role but the auditor reads the trail. A",
        "matrix that breaks this stops the server (system check `xueji_access.E001`).",
        "",
        "| duty | holds only |",
        "|---|---|",
    ]
    for role, actions in DUTY_ACTIONS.items():
        held = ", ".join(f"`{action}`" for action in Action.values if action in actions)
        lines.append(f"| {Role(role).label} (`{role}`) | {held} |")
    return lines


def _accounts_section(roles: Sequence[Role]) -> list[str]:
    lines = [
        "",
        "## Who gives which role",
        "",
        "An account manager creates and manages accounts inside the own area only, and never",
        "the own account (nobody gives themselves a role or changes their own role or scope).",
        "A bureau approver gives ordinary roles strictly below its own level; a security",
        "administrator gives ordinary roles at or below its own level; only the nation's",
        "security administrator gives the separated duties. Removal seals an account for ever:",
        "the row is kept and its login name is never used again.",
        "",
        "| manager | may give |",
        "|---|---|",
    ]
    for role in roles:
        for level in ScopeLevel.values:
            if level not in ROLE_LEVELS[role]:
                continue
            given = assignable_roles(role, level)
            if not given:
                continue
            by_role: dict[str, list[str]] = {}
            for target, at in given:
                by_role.setdefault(target, []).append(LEVEL_MARKS[ScopeLevel(at)])
            cell = "; ".join(f"`{target}` at {', '.join(at)}" for target, at in by_role.items())
            lines.append(f"| `{role.value}` at {LEVEL_MARKS[ScopeLevel(level)]} | {cell} |")
    return lines


def default_path() -> Path:
    return Path(settings.BASE_DIR) / "docs" / "permissions.md"


def _levels(levels: frozenset[str], held: frozenset[str]) -> str:
    shown = [LEVEL_MARKS[ScopeLevel(level)] for level in ScopeLevel.values if level in levels]
    if set(levels) >= held and len(held) > 1:
        return "all"
    return ", ".join(shown)


def _cell(role: str, action: str) -> str:
    found = grant(role, action)
    held = ROLE_LEVELS[role]
    if found is None or not (found.levels & held):
        return "—"
    return "✓ " + _levels(found.levels & held, held) + LIMIT_MARKS[Limit(found.limit)]


def render() -> str:
    """The whole document, in English (the msgids), deterministic."""
    roles = list(Role)
    workflows = [_workflows[title] for title in sorted(_workflows)]
    sources = ["src/xueji/access/policy.py", *(workflow.source for workflow in workflows)]
    with translation.override("en"):
        lines = [
            "# Permissions",
            "",
            *_header(sources),
            "",
            "Who may do what, at which level, within which limit. The matrix lives in one module,",
            "`xueji.access.policy` (`allowed(role, action, scope_level)`); services and selectors",
            "enforce it (a selector returns only what the grant's limit covers, a service refuses",
            "what the role may not do), and pages and API endpoints declare the action they",
            "perform (`@requires`, `@endpoint_requires`), which refuses a role without it with",
            "403. Anything outside the user's area answers 404: it does not exist for that user.",
            "A generated test walks every role against every page and API endpoint, with an",
            "object inside and one outside the scope.",
            "",
            "## Roles and the levels they are held at",
            "",
            "| role | code | levels |",
            "|---|---|---|",
        ]
        for role in roles:
            held = ", ".join(
                LEVEL_MARKS[ScopeLevel(level)]
                for level in ScopeLevel.values
                if level in ROLE_LEVELS[role]
            )
            lines.append(f"| {role.label} | `{role.value}` | {held} |")
        lines += [
            "",
            "## The matrix",
            "",
            "A cell names the levels at which the role holds the action (“all”: every level the",
            "role is held at); within the level, the user acts on the own area only (the school,",
            "the county, the city, the province, or the nation), narrowed further where marked:",
            "",
        ]
        for limit in Limit:
            if LIMIT_MARKS[limit]:
                lines.append(f"-{LIMIT_MARKS[limit]}: {limit.label}.")
        lines += [
            "",
            "| action | " + " | ".join(f"`{role.value}`" for role in roles) + " |",
            "|---|" + "---|" * len(roles),
        ]
        for action in Action:
            cells = " | ".join(_cell(role, action) for role in roles)
            lines.append(f"| `{action.value}`<br>{action.label} | {cells} |")
        lines += _duties_section()
        lines += _accounts_section(roles)
        for workflow in workflows:
            lines += _workflow_section(workflow, roles)
        lines.append("")
    assert set(MATRIX) == set(Role.values)
    return "\n".join(lines)
