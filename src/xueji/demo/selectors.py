"""Reads of the demo: its accounts, for printing at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from xueji.access.models import Membership

from . import demo


@dataclass(frozen=True)
class DemoAccountRow:
    username: str
    role: str
    scope: str


def demo_accounts() -> list[DemoAccountRow]:
    """The demo accounts that exist, in the order of demo.ACCOUNTS, with role and scope."""
    usernames = [account.username for account in demo.ACCOUNTS]
    users = get_user_model().objects.filter(username__in=usernames)
    memberships = {
        m.user_id: m
        for m in Membership.objects.filter(user__in=users).select_related("school", "division")
    }
    by_name = {user.username: user for user in users}
    rows = []
    for username in usernames:
        user = by_name.get(username)
        if user is None:
            continue
        membership = memberships.get(user.pk)
        if membership is None:
            continue
        if membership.school is not None:
            scope = f"{membership.school.name} ({membership.school.code})"
        elif membership.division is not None:
            scope = f"{membership.division.name} ({membership.division.code})"
        else:
            scope = str(membership.get_scope_level_display())
        rows.append(
            DemoAccountRow(username=username, role=str(membership.get_role_display()), scope=scope)
        )
    return rows
