"""Reads of the account administration: the accounts a manager may manage, filtered and paged,
one account with its state and open items, and the roles and successors a form offers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Case, CharField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils.translation import gettext_lazy as _

from xueji.access.handover import OpenItemKind, open_item_kinds
from xueji.access.models import Role, ScopeLevel
from xueji.access.policy import Action, assignable_roles
from xueji.access.scope import NOTHING, PREFIX_DIGITS, Scope, require
from xueji.accounts.administration.models import AccountProfile
from xueji.accounts.administration.rules import manageable_accounts, managed_account
from xueji.accounts.models import AccountSeal, SealReason
from xueji.core.errors import NotFound
from xueji.geo.models import Division


class AccountState:
    ACTIVE = "active"
    SEALED = "sealed"
    REMOVED = "removed"

    CHOICES = (
        (ACTIVE, _("In use")),
        (SEALED, _("Sealed")),
        (REMOVED, _("Removed")),
    )
    LABELS = dict(CHOICES)


def with_state(users: QuerySet[Any]) -> QuerySet[Any]:
    """Annotate `seal_reason` (the open seal's, or None) and `state` (AccountState)."""
    open_seal = AccountSeal.objects.filter(user=OuterRef("pk"), reopened_at__isnull=True)
    return users.annotate(
        seal_reason=Subquery(open_seal.values("reason")[:1]),
        state=Case(
            When(seal_reason=SealReason.REMOVED, then=Value(AccountState.REMOVED)),
            When(
                Q(seal_reason__isnull=False) | Q(is_active=False), then=Value(AccountState.SEALED)
            ),
            default=Value(AccountState.ACTIVE),
            output_field=CharField(),
        ),
    )


@dataclass(frozen=True)
class AccountFilter:
    q: str = ""  # a part of the name or of the login name
    role: str = ""
    level: str = ""
    state: str = ""
    place: str = ""  # a school code or a division code (its area)


def account_list(actor: Any, wanted: AccountFilter) -> QuerySet[Any]:
    """The accounts the actor manages that match `wanted`, newest first (account.manage)."""
    scope = require(actor, Action.ACCOUNT_MANAGE)
    users = with_state(manageable_accounts(scope)).select_related(
        "membership__school", "membership__division", "account_profile"
    )
    if wanted.q:
        users = users.filter(
            Q(username__icontains=wanted.q)
            | Q(last_name__icontains=wanted.q)
            | Q(first_name__icontains=wanted.q)
        )
    if wanted.role:
        users = users.filter(membership__role=wanted.role)
    if wanted.level:
        users = users.filter(membership__scope_level=wanted.level)
    if wanted.state:
        users = users.filter(state=wanted.state)
    if wanted.place:
        users = users.filter(_place_q(wanted.place))
    return users.order_by("-date_joined", "-pk")


def _place_q(code: str) -> Q:
    """A school code (10 digits): its accounts; a division code (6 digits): the accounts at it,
    at the divisions inside it and at its schools."""
    if len(code) == 10:
        return Q(membership__school__code=code)
    division = Division.objects.filter(code=code).first()
    if division is None:
        return NOTHING
    prefix = code[: PREFIX_DIGITS[division.level]]
    return Q(membership__division__code__startswith=prefix) | Q(
        membership__school__county__code__startswith=prefix
    )


@dataclass(frozen=True)
class OpenItems:
    kind: OpenItemKind
    ids: list[str]


def open_items(user: Any) -> list[OpenItems]:
    """The open items attached to the user, of every registered kind that has any."""
    found = [OpenItems(kind, kind.open_of(user)) for kind in open_item_kinds()]
    return [items for items in found if items.ids]


@dataclass(frozen=True)
class AccountView:
    user: Any
    state: str
    seal: AccountSeal | None
    profile: AccountProfile | None
    open_items: list[OpenItems]
    successors: list[Any]

    @property
    def state_label(self) -> Any:
        return AccountState.LABELS[self.state]

    @property
    def membership(self) -> Any:
        return getattr(self.user, "membership", None)


def account_detail(actor: Any, user_id: int) -> AccountView:
    """One account the actor manages, with its state, open seal and open items."""
    user = managed_account(actor, user_id)
    annotated = with_state(get_user_model().objects.filter(pk=user.pk)).get()
    seal = (
        AccountSeal.objects.filter(user=user, reopened_at__isnull=True)
        .select_related("sealed_by")
        .first()
    )
    items = open_items(user)
    return AccountView(
        user=user,
        state=annotated.state,
        seal=seal,
        profile=AccountProfile.objects.filter(user=user).first(),
        open_items=items,
        successors=successors(actor, user) if items else [],
    )


def successors(actor: Any, user: Any) -> list[Any]:
    """Who may take over the user's open items: an account in use that the actor manages, with
    the same role at the same school or division."""
    scope = require(actor, Action.ACCOUNT_MANAGE)
    membership = getattr(user, "membership", None)
    if membership is None:
        return []
    return list(
        with_state(manageable_accounts(scope))
        .filter(
            state=AccountState.ACTIVE,
            membership__role=membership.role,
            membership__scope_level=membership.scope_level,
            membership__school_id=membership.school_id,
            membership__division_id=membership.division_id,
        )
        .exclude(pk=user.pk)
        .order_by("username")
    )


def roles_to_give(scope: Scope) -> list[tuple[str, Any]]:
    """The roles the scope may give at some level, as (value, label), in the order of Role."""
    given = {role for role, _level in assignable_roles(scope.role, scope.level)}
    return [(role.value, role.label) for role in Role if role.value in given]


def levels_to_give(scope: Scope) -> list[tuple[str, Any]]:
    given = {level for _role, level in assignable_roles(scope.role, scope.level)}
    return [(level.value, level.label) for level in ScopeLevel if level.value in given]


def account_by_login_name(actor: Any, login_name: str) -> Any:
    """The account of this login name, if the actor manages it (NotFound otherwise)."""
    scope = require(actor, Action.ACCOUNT_MANAGE)
    found = manageable_accounts(scope).filter(username=login_name).first()
    if found is None:
        raise NotFound("account_not_found", _("No such account in your area."))
    return found
