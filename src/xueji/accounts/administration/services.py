"""Writes of the account administration, each in one transaction with its audit entry: create,
edit, seal, remove, reset a password, hand over a registrar's open items; and the user's own
password change. Who may do what to which account is decided by rules.py (the matrix's rule of
who gives which role, inside the manager's area, never the own account).

Passwords chosen here (a new account's, a reset's) are returned once, to be handed over, and
never kept: the user must change them at the next login (AccountProfile.must_change_password).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.handover import open_item_kinds
from xueji.access.models import SCHOOL_ROLES, ApiToken, Membership, Role, ScopeLevel
from xueji.access.policy import Action, may_assign_role
from xueji.access.scope import Scope, require
from xueji.accounts.administration.hashers import set_initial_password
from xueji.accounts.administration.models import AccountProfile
from xueji.accounts.administration.passwords import initial_password
from xueji.accounts.administration.rules import managed_account, may_place
from xueji.accounts.administration.selectors import open_items
from xueji.accounts.models import AccountSeal, SealReason
from xueji.accounts.services import account_reopen
from xueji.audit.services import audit_record
from xueji.core.errors import Conflict, FieldErrors, ServiceError
from xueji.geo.models import Division
from xueji.schools.models import School

LOGIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$")
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
NAME_MAX = 30
NOTE_MAX = AccountSeal._meta.get_field("note").max_length or 200


@dataclass(frozen=True)
class AccountData:
    """What a manager fills in for an account: the person, the role and where it is held (a
    school's 10-digit code for school staff; a division's 6-digit code for a bureau, or
    nothing for the nation)."""

    name: str
    role: str
    phone: str = ""
    school_code: str = ""
    division_code: str = ""


@dataclass(frozen=True)
class Placement:
    role: str
    level: str
    school: School | None
    division: Division | None

    def code(self) -> str:
        if self.school is not None:
            return self.school.code
        return self.division.code if self.division is not None else ""


@dataclass(frozen=True)
class CreatedAccount:
    user: Any
    password: str  # shown once


def _error(message: Any, code: str, **params: Any) -> ValidationError:
    return ValidationError(message, code=code, params=params or None)


def masked_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if phone else ""


# ---- checking what a manager filled in ---------------------------------------------------------


def _check_person(data: AccountData, errors: dict[str, list[ValidationError]]) -> None:
    name = data.name.strip()
    if not name:
        errors["name"] = [_error(_("Enter the person's name."), "required")]
    elif len(name) > NAME_MAX:
        errors["name"] = [
            _error(_("A name has at most %(max)d characters."), "max_length", max=NAME_MAX)
        ]
    phone = data.phone.strip()
    if phone and not MOBILE.match(phone):
        errors["phone"] = [
            _error(
                _("A mobile number has 11 digits and starts with 13 to 19: %(value)s"),
                "phone_format",
                value=phone,
            )
        ]


def _check_placement(
    scope: Scope | None, data: AccountData, errors: dict[str, list[ValidationError]]
) -> Placement | None:
    """Where the account would be held, if the manager may give that role there (scope None:
    the operator's command line, which may give any role at any level the role is held at)."""
    if data.role not in Role.values:
        errors["role"] = [_error(_("Choose a role."), "role_unknown")]
        return None
    school = division = None
    if data.role in SCHOOL_ROLES:
        level = ScopeLevel.SCHOOL.value
        code = data.school_code.strip()
        school = School.objects.filter(code=code).first() if code else None
        if school is None:
            errors["school_code"] = [
                _error(
                    _("No school with the code (学校标识码) %(value)s in your area."),
                    "school_not_found",
                    value=code or "—",
                )
            ]
            return None
    else:
        code = data.division_code.strip()
        if code:
            division = Division.objects.filter(code=code).first()
            if division is None:
                errors["division_code"] = [
                    _error(
                        _("No division with the code %(value)s in your area."),
                        "division_not_found",
                        value=code,
                    )
                ]
                return None
            level = division.level
        else:
            level = ScopeLevel.NATION.value
    if scope is None:
        # The operator: a school role is held at its school, any other at a division or the
        # nation, which are the levels the matrix holds them at.
        return Placement(data.role, level, school, division)
    if not may_assign_role(scope.role, scope.level, data.role, level):
        errors["role"] = [
            _error(
                _(
                    "You may not give the role %(role)s at the level %(level)s: an account "
                    "manager gives roles below the own level only (a security administrator at "
                    "or below it), and only the nation's security administrator gives the "
                    "roles of administrators and auditors."
                ),
                "role_not_yours_to_give",
                role=Role(data.role).label,
                level=ScopeLevel(level).label,
            )
        ]
        return None
    if not may_place(scope, data.role, level, school, division):
        where = "school_code" if school is not None else "division_code"
        errors[where] = [
            _error(
                _("%(place)s is outside your area."),
                "outside_area",
                place=str(school or division or ScopeLevel.NATION.label),
            )
        ]
        return None
    return Placement(data.role, level, school, division)


def _check_login_name(login_name: str, errors: dict[str, list[ValidationError]]) -> str:
    login_name = login_name.strip()
    if not LOGIN_NAME.match(login_name):
        errors["login_name"] = [
            _error(
                _(
                    "A login name has 3 to 32 letters, digits, '.', '_' or '-', and starts with "
                    "a letter or a digit: %(value)s"
                ),
                "login_name_format",
                value=login_name or "—",
            )
        ]
        return login_name
    taken = get_user_model().objects.filter(username__iexact=login_name).first()
    if taken is not None:
        removed = AccountSeal.objects.filter(
            user=taken, reopened_at__isnull=True, reason=SealReason.REMOVED
        ).exists()
        message = (
            _("The login name %(value)s belonged to a removed account and is never used again.")
            if removed
            else _("The login name %(value)s is taken.")
        )
        errors["login_name"] = [_error(message, "login_name_taken", value=login_name)]
    return login_name


def _raise_if(errors: dict[str, list[ValidationError]]) -> None:
    if errors:
        raise FieldErrors(errors)


def _not_own(actor: Any, user_id: int) -> None:
    if actor is not None and actor.pk == user_id:
        raise ServiceError(
            "own_account",
            _(
                "Nobody changes their own account's role, scope or state: ask another account "
                "manager."
            ),
            status=403,
        )


def _locked(user_id: int) -> Any:
    return get_user_model().objects.select_for_update().get(pk=user_id)


def _open_seal(user: Any) -> AccountSeal | None:
    return (
        AccountSeal.objects.select_for_update().filter(user=user, reopened_at__isnull=True).first()
    )


def _refuse_removed(seal: AccountSeal | None) -> None:
    if seal is not None and seal.reason == SealReason.REMOVED:
        raise Conflict("account_removed", _("This account was removed; it cannot be changed."))


def _placement_detail(placement: Placement) -> dict[str, Any]:
    return {"role": placement.role, "level": placement.level, "place": placement.code()}


# ---- one account -------------------------------------------------------------------------------


def write_account(
    *, actor: Any, login_name: str, data: AccountData, placement: Placement, password: str
) -> Any:
    """Write one account, its membership and profile: for account_create and the bulk creation,
    which checked everything before and hold the transaction and its audit entry."""
    user_model = get_user_model()
    user = user_model(username=login_name, last_name=data.name.strip())
    set_initial_password(user, password)
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError:
        raise FieldErrors(
            {
                "login_name": [
                    _error(
                        _("The login name %(value)s is taken."),
                        "login_name_taken",
                        value=login_name,
                    )
                ]
            }
        ) from None
    Membership.objects.create(
        user=user,
        role=placement.role,
        scope_level=placement.level,
        school=placement.school,
        division=placement.division,
    )
    AccountProfile.objects.create(
        user=user, phone=data.phone.strip(), must_change_password=True, created_by=actor
    )
    return user


def account_create(*, actor: Any, login_name: str, data: AccountData) -> CreatedAccount:
    """A new account with its role and scope and a generated password, returned once; the user
    must change it at the first login. Actor None is the operator's command line (`xueji
    create_account`), which makes the first security administrator of a new deployment."""
    scope = None if actor is None else require(actor, Action.ACCOUNT_MANAGE)
    errors: dict[str, list[ValidationError]] = {}
    login_name = _check_login_name(login_name, errors)
    _check_person(data, errors)
    placement = _check_placement(scope, data, errors)
    _raise_if(errors)
    assert placement is not None
    password = initial_password()
    with transaction.atomic():
        user = write_account(
            actor=actor, login_name=login_name, data=data, placement=placement, password=password
        )
        audit_record(
            actor=actor,
            action="account.create",
            object_type="user",
            detail={
                "user": login_name,
                "user_id": user.pk,
                **_placement_detail(placement),
                "phone": masked_phone(data.phone.strip()),
            },
        )
    return CreatedAccount(user=user, password=password)


def account_edit(*, actor: Any, user_id: int, data: AccountData) -> Any:
    """Change an account's name, phone, role or scope. The new role and scope must be ones the
    actor may give; an account with open items keeps its role and place until they are handed
    over."""
    _not_own(actor, user_id)
    scope = require(actor, Action.ACCOUNT_MANAGE)
    managed_account(actor, user_id)
    errors: dict[str, list[ValidationError]] = {}
    _check_person(data, errors)
    placement = _check_placement(scope, data, errors)
    _raise_if(errors)
    assert placement is not None
    with transaction.atomic():
        user = _locked(user_id)
        _refuse_removed(_open_seal(user))
        membership = Membership.objects.select_for_update().filter(user=user).first()
        profile, _created = AccountProfile.objects.select_for_update().get_or_create(user=user)
        before = {
            "name": user.last_name,
            "phone": masked_phone(profile.phone),
            **(
                {
                    "role": membership.role,
                    "level": membership.scope_level,
                    "place": (
                        membership.school.code
                        if membership.school is not None
                        else (membership.division_id or "")
                    ),
                }
                if membership is not None
                else {"role": "", "level": "", "place": ""}
            ),
        }
        after = {
            "name": data.name.strip(),
            "phone": masked_phone(data.phone.strip()),
            **_placement_detail(placement),
        }
        moved = any(before[key] != after[key] for key in ("role", "level", "place"))
        if moved:
            pending = open_items(user)
            if pending:
                raise Conflict(
                    "open_items",
                    _(
                        "This account still has open items (%(items)s): hand them over to a "
                        "successor before its role or place changes."
                    )
                    % {"items": _items_text(pending)},
                )
        user.last_name = after["name"]
        user.save(update_fields=["last_name"])
        profile.phone = data.phone.strip()
        profile.save(update_fields=["phone"])
        if membership is None:
            membership = Membership(user=user)
        membership.role = placement.role
        membership.scope_level = placement.level
        membership.school = placement.school
        membership.division = placement.division
        membership.save()
        changed = {key for key in after if before[key] != after[key]}
        audit_record(
            actor=actor,
            action="account.edit",
            object_type="user",
            detail={"user": user.get_username(), "user_id": user.pk},
            before={key: before[key] for key in sorted(changed)},
            after={key: after[key] for key in sorted(changed)},
        )
    return user


def _items_text(pending: list[Any]) -> str:
    return "; ".join(f"{items.kind.label} {len(items.ids)}" for items in pending)


def _last_use(user: Any) -> Any:
    return user.last_login or user.date_joined


def account_seal(*, actor: Any, user_id: int, note: str = "") -> AccountSeal:
    """Switch an account off until an account manager reopens it (its sessions and API tokens
    stop working at once)."""
    _not_own(actor, user_id)
    managed_account(actor, user_id)
    note = (note or "").strip()[:NOTE_MAX]
    with transaction.atomic():
        user = _locked(user_id)
        seal = _open_seal(user)
        _refuse_removed(seal)
        if seal is not None:
            raise Conflict("account_sealed", _("This account is sealed already."))
        now = timezone.now()
        seal = AccountSeal.objects.create(
            user=user,
            sealed_at=now,
            last_used_at=_last_use(user),
            reason=SealReason.MANAGER,
            sealed_by=actor,
            note=note,
        )
        get_user_model().objects.filter(pk=user.pk).update(is_active=False)
        audit_record(
            actor=actor,
            action="account.seal",
            object_type="user",
            detail={"user": user.get_username(), "user_id": user.pk, "note": note},
            before={"is_active": user.is_active},
            after={"is_active": False},
        )
    return seal


def account_unseal(*, actor: Any, user_id: int) -> AccountSeal:
    """Reopen a sealed account the actor manages (accounts.services.account_reopen, which the
    sealed page and the command line use too); an account that is not sealed is a conflict, not
    a missing account."""
    _not_own(actor, user_id)
    managed_account(actor, user_id)
    seal = AccountSeal.objects.filter(user_id=user_id, reopened_at__isnull=True).first()
    _refuse_removed(seal)
    if seal is None:
        raise Conflict("account_not_sealed", _("This account is not sealed."))
    return account_reopen(actor=actor, user_id=user_id)


@dataclass(frozen=True)
class RemovedAccount:
    user: Any
    seal: AccountSeal
    tokens_revoked: int


def account_remove(*, actor: Any, user_id: int, reason: str) -> RemovedAccount:
    """Remove an account for ever: it is sealed and never reopened, its API tokens are revoked,
    its row stays (its login name is never used again, its past still names it). Refused while
    it has open items: hand them over first."""
    _not_own(actor, user_id)
    managed_account(actor, user_id)
    reason = (reason or "").strip()[:NOTE_MAX]
    if not reason:
        raise FieldErrors({"reason": [_error(_("Say why the account is removed."), "required")]})
    with transaction.atomic():
        user = _locked(user_id)
        seal = _open_seal(user)
        _refuse_removed(seal)
        pending = open_items(user)
        if pending:
            raise Conflict(
                "open_items",
                _(
                    "This account still has open items (%(items)s): hand them over to a "
                    "successor first."
                )
                % {"items": _items_text(pending)},
            )
        now = timezone.now()
        superseded = None
        if seal is not None:
            # The seal for lack of use (or a manager's) ends where the removal begins.
            superseded = seal.reason
            seal.reopened_at = now
            seal.reopened_by = actor
            seal.save(update_fields=["reopened_at", "reopened_by"])
        removal = AccountSeal.objects.create(
            user=user,
            sealed_at=now,
            last_used_at=_last_use(user),
            reason=SealReason.REMOVED,
            sealed_by=actor,
            note=reason,
        )
        get_user_model().objects.filter(pk=user.pk).update(is_active=False)
        AccountProfile.objects.filter(user=user).update(must_change_password=False)
        revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
        audit_record(
            actor=actor,
            action="account.remove",
            object_type="user",
            detail={
                "user": user.get_username(),
                "user_id": user.pk,
                "reason": reason,
                "tokens_revoked": revoked,
                "superseded_seal": superseded or "",
            },
            before={"is_active": user.is_active},
            after={"is_active": False},
        )
    return RemovedAccount(user=user, seal=removal, tokens_revoked=revoked)


def account_password_reset(*, actor: Any, user_id: int) -> CreatedAccount:
    """A new password chosen by the system, returned once; the user must change it at the next
    login. The account's sessions end (Django ties a session to the password)."""
    _not_own(actor, user_id)
    managed_account(actor, user_id)
    password = initial_password()
    with transaction.atomic():
        user = _locked(user_id)
        _refuse_removed(_open_seal(user))
        set_initial_password(user, password)
        user.save(update_fields=["password"])
        profile, _created = AccountProfile.objects.get_or_create(user=user)
        profile.must_change_password = True
        profile.save(update_fields=["must_change_password"])
        audit_record(
            actor=actor,
            action="account.password_reset",
            object_type="user",
            detail={"user": user.get_username(), "user_id": user.pk},
        )
    return CreatedAccount(user=user, password=password)


# ---- the hand-over of a registrar's open items -------------------------------------------------


@dataclass(frozen=True)
class HandOver:
    predecessor: Any
    successor: Any
    passed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(len(ids) for ids in self.passed.values())


def open_items_hand_over(*, actor: Any, from_user_id: int, to_user_id: int) -> HandOver:
    """Every open item attached to the predecessor (changes filed, corrections asked for,
    imports queued or running: whatever the domains registered) passes to the successor, in
    one transaction and one audit entry. The successor holds the same role at the same school
    or division, is in use, and both are accounts the actor manages."""
    predecessor = managed_account(actor, from_user_id)
    if from_user_id == to_user_id:
        raise FieldErrors(
            {"successor": [_error(_("Choose another account as the successor."), "same_account")]}
        )
    successor = managed_account(actor, to_user_id)
    before = getattr(predecessor, "membership", None)
    after = getattr(successor, "membership", None)
    same_place = (
        before is not None
        and after is not None
        and (before.role, before.scope_level, before.school_id, before.division_id)
        == (after.role, after.scope_level, after.school_id, after.division_id)
    )
    if not same_place:
        raise FieldErrors(
            {
                "successor": [
                    _error(
                        _("The successor must hold the same role at the same school or bureau."),
                        "successor_elsewhere",
                    )
                ]
            }
        )
    with transaction.atomic():
        first, second = sorted([from_user_id, to_user_id])
        locked = {first: _locked(first), second: _locked(second)}
        if not locked[to_user_id].is_active or _open_seal(locked[to_user_id]) is not None:
            raise FieldErrors(
                {
                    "successor": [
                        _error(_("The successor's account is not in use."), "successor_sealed")
                    ]
                }
            )
        passed = {}
        for kind in open_item_kinds():
            ids = kind.pass_on(locked[from_user_id], locked[to_user_id])
            if ids:
                passed[kind.key] = ids
        if not passed:
            raise Conflict("nothing_open", _("This account has no open items to hand over."))
        audit_record(
            actor=actor,
            action="account.hand_over",
            object_type="user",
            detail={
                "from": predecessor.get_username(),
                "from_id": predecessor.pk,
                "to": successor.get_username(),
                "to_id": successor.pk,
                "items": passed,
            },
        )
    return HandOver(predecessor=predecessor, successor=successor, passed=passed)


# ---- the user's own password -------------------------------------------------------------------


def password_change(*, actor: Any, old_password: str, new_password: str) -> Any:
    """The user chooses a password of their own (and must, after a password somebody else chose:
    a new account's or a reset's). The old one must be given; the new one passes the password
    rules and differs from it."""
    errors: dict[str, list[ValidationError]] = {}
    if not actor.check_password(old_password or ""):
        errors["old_password"] = [_error(_("The current password is wrong."), "password_incorrect")]
    elif new_password == old_password:
        errors["new_password1"] = [
            _error(_("Choose a password other than the current one."), "password_unchanged")
        ]
    else:
        try:
            validate_password(new_password, actor)
        except ValidationError as invalid:
            errors["new_password1"] = list(invalid.error_list)
    _raise_if(errors)
    with transaction.atomic():
        user = _locked(actor.pk)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        forced = AccountProfile.objects.filter(user=user, must_change_password=True).update(
            must_change_password=False
        )
        audit_record(
            actor=actor,
            action="account.password_change",
            object_type="user",
            detail={"user": user.get_username(), "required": bool(forced)},
        )
    return user
