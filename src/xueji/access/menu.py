"""The menu: the pages each role works on, in groups by task, and the breadcrumb of a page.

Each app registers its own pages when it is ready (`menu_register` in its AppConfig.ready), with
the permission-matrix action (or a predicate on the scope) that decides who sees the entry, so
that the menu shows what a role may open and nothing else, and access never imports a domain.
`menu_for` builds one user's menu for one request; base.html renders it as the left menu and
the breadcrumb (access/_nav.html, includes/breadcrumbs.html).

Groups are the tasks a registrar, a teacher and a bureau recognise: 学籍, 异动, 核查, 成绩,
毕业升级, 统计, 导入导出, 管理, 审计, and the user's own 我的.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import pgettext_lazy

from xueji.access.policy import allowed
from xueji.access.scope import Scope, scope_of


@dataclass(frozen=True)
class MenuGroup:
    key: str
    label: Any  # translated lazily
    order: int


# The groups' keys are what apps name; their order is the menu's.
GROUPS: dict[str, MenuGroup] = {
    group.key: group
    for group in (
        MenuGroup("records", pgettext_lazy("menu group", "Student records"), 10),
        MenuGroup("changes", pgettext_lazy("menu group", "Changes"), 20),
        MenuGroup("attendance", pgettext_lazy("menu group", "Attendance and dropouts"), 25),
        MenuGroup("checks", pgettext_lazy("menu group", "Checks"), 30),
        MenuGroup("identity", pgettext_lazy("menu group", "Identity and duplicates"), 35),
        MenuGroup("scores", pgettext_lazy("menu group", "Scores"), 40),
        MenuGroup("archive", pgettext_lazy("menu group", "Archive and certificates"), 45),
        MenuGroup("year", pgettext_lazy("menu group", "Promotion and graduation"), 50),
        MenuGroup("money", pgettext_lazy("menu group", "Funding and aid"), 55),
        MenuGroup("statistics", pgettext_lazy("menu group", "Statistics"), 60),
        MenuGroup("data", pgettext_lazy("menu group", "Import and export"), 70),
        MenuGroup("administration", pgettext_lazy("menu group", "Administration"), 80),
        MenuGroup("nodes", pgettext_lazy("menu group", "National hub and nodes"), 85),
        MenuGroup("audit", pgettext_lazy("menu group", "Audit"), 90),
        MenuGroup("account", pgettext_lazy("menu group", "My account"), 100),
    )
}
# The home page stands above the groups, in none.
TOP = ""


@dataclass(frozen=True)
class MenuEntry:
    """One page of the menu.

    Seen by a signed-in user when `action` is None or the matrix grants it to the user's role at
    its level, and `visible` (when given) says yes for the user's scope (None for a user
    without a role). `also` names the other pages (URL names) that belong to the entry: the
    menu marks it and the breadcrumb passes through it there; a page under the entry's address
    belongs to it anyway (/changes/<id>/ to /changes/). `inbox` adds to the entry how many
    things wait for the user (requests to decide), drawn by `inbox_template` with the number as
    `inbox` in its context.
    """

    group: str
    label: Any
    url_name: str
    order: int
    action: str | None = None
    visible: Callable[[Scope | None], bool] | None = None
    also: tuple[str, ...] = ()
    element_id: str = ""
    inbox: Callable[[Any], int] | None = None
    inbox_template: str = ""

    def shown_to(self, scope: Scope | None) -> bool:
        if self.action is not None and (
            scope is None or not allowed(scope.role, self.action, scope.level)
        ):
            return False
        return self.visible is None or self.visible(scope)


_entries: dict[str, MenuEntry] = {}
# Pages of other apps (URL names) that belong to an entry, by the entry's URL name.
_attached: dict[str, set[str]] = {}


def menu_register(*entries: MenuEntry) -> None:
    """Add (or replace, by URL name) pages of the menu; each app calls it when ready."""
    for entry in entries:
        if entry.group != TOP and entry.group not in GROUPS:
            raise ValueError(f"{entry.url_name}: no menu group {entry.group!r}")
        if entry.inbox is not None and not entry.inbox_template:
            raise ValueError(f"{entry.url_name}: an inbox needs its inbox_template")
        _entries[entry.url_name] = entry


def menu_attach(entry_url_name: str, *page_names: str) -> None:
    """Count pages of the calling app as the entry's, as its `also` does for the entry's own app:
    a page about one student (a correction asked for, a change filed) under 查找学生, whose app
    registered the entry and knows nothing of the pages above it."""
    _attached.setdefault(entry_url_name, set()).update(page_names)


def menu_entries() -> list[MenuEntry]:
    """Every registered entry, in the menu's order."""

    def position(entry: MenuEntry) -> tuple[int, int, str]:
        group = -1 if entry.group == TOP else GROUPS[entry.group].order
        return group, entry.order, entry.url_name

    return sorted(_entries.values(), key=position)


@dataclass
class MenuItem:
    entry: MenuEntry
    url: str
    inbox: int = 0
    # aria-current: "page" on the entry's own page, "true" on a page below it, else "".
    current: str = ""

    @property
    def label(self) -> Any:
        return self.entry.label


@dataclass
class MenuSection:
    group: MenuGroup | None  # None: the top, above the groups
    items: list[MenuItem]


@dataclass
class Menu:
    sections: list[MenuSection]
    current: MenuItem | None
    current_group: MenuGroup | None
    home: MenuItem | None

    @property
    def exact(self) -> bool:
        """Is the page the current entry's own (not one below it)?"""
        return self.current is not None and self.current.current == "page"


# How closely a page belongs to an entry, above any length of address that matched.
OWN_PAGE = 100_000
NAMED_PAGE = 50_000


def _belongs(entry: MenuEntry, url: str, view_name: str, path: str) -> int:
    """How closely the request's page belongs to the entry: 0 not at all, else the length of
    what matched (the longest wins), the entry's own page and its named pages first."""
    if view_name == entry.url_name:
        return OWN_PAGE
    if view_name and (view_name in entry.also or view_name in _attached.get(entry.url_name, ())):
        return NAMED_PAGE
    if url != "/" and path.startswith(url):
        return len(url)
    return 0


def menu_for(request: Any) -> Menu:
    """The signed-in user's menu for this request: the entries the role may open, by group, the
    one the page belongs to marked (its group named, for the breadcrumb)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return Menu([], None, None, None)
    scope = scope_of(user)
    match = getattr(request, "resolver_match", None)
    view_name = match.view_name if match is not None else ""
    path = request.path
    sections: dict[str, MenuSection] = {}
    best: tuple[int, MenuItem | None] = (0, None)
    home: MenuItem | None = None
    for entry in menu_entries():
        if not entry.shown_to(scope):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue  # an entry whose page this deployment's URL conf leaves out
        item = MenuItem(entry, url, entry.inbox(user) if entry.inbox is not None else 0)
        group = GROUPS.get(entry.group)
        sections.setdefault(entry.group, MenuSection(group, [])).items.append(item)
        if entry.group == TOP and home is None:
            home = item
        closeness = _belongs(entry, url, view_name, path)
        if closeness > best[0]:
            best = (closeness, item)
    current = best[1]
    if current is not None:
        current.current = "page" if best[0] == OWN_PAGE else "true"
    return Menu(
        sections=list(sections.values()),
        current=current,
        current_group=GROUPS.get(current.entry.group) if current is not None else None,
        home=home,
    )
