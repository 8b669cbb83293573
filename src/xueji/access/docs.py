"""docs/permissions.md, rendered from the permission matrix (xueji.access.policy) and the
correction workflow, so that the document and the enforced rules cannot drift apart."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.utils import translation

from xueji.access.models import Role, ScopeLevel
from xueji.access.policy import MATRIX, ROLE_LEVELS, Action, Limit, grant

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
    from xueji.corrections.workflow import TRANSITIONS, Event, State

    roles = list(Role)
    with translation.override("en"):
        lines = [
            "# Permissions",
            "",
            "<!-- Rendered by `xueji render_permissions` from src/xueji/access/policy.py and",
            "     src/xueji/corrections/workflow.py; a test fails when this file is out of"
            " date. -->",
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
        lines += [
            "",
            "## Key-data corrections (关键数据变更): who takes which step",
            "",
            "| from | event | to | needs | who |",
            "|---|---|---|---|---|",
        ]
        for (source, event), step in TRANSITIONS.items():
            holders = ", ".join(
                f"`{role.value}`" for role in roles if grant(role, step.action) is not None
            )
            lines.append(
                f"| {State(source).label if source else '(new)'} | {Event(event).label} "
                f"| {State(step.target).label} | `{step.action}` | {holders} |"
            )
        lines += [
            "",
            "School steps are taken at the school that holds the request, county steps by an",
            "approver of that school's county. Any other transition is refused (409).",
            "",
        ]
    assert set(MATRIX) == set(Role.values)
    return "\n".join(lines)
