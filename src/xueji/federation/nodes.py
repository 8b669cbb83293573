"""Which role this deployment plays (XUEJI_NODE): one code base, two roles by settings.

- unset: one database for the country (the demo, a single deployment): nothing federates;
- `province:44`: a provincial node holding province 44's schools and children;
- `national`: the national hub (the national index, national statistics, transfers' routing).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

HUB = "00"


@dataclass(frozen=True)
class Node:
    role: str  # "", "province" or "national"
    province: str  # the province's two digits; HUB for the hub; "" when unset

    @property
    def federated(self) -> bool:
        return bool(self.role)

    @property
    def is_hub(self) -> bool:
        return self.role == "national"

    @property
    def is_province(self) -> bool:
        return self.role == "province"


def parse_node(text: str) -> Node:
    text = text.strip()
    if not text:
        return Node("", "")
    if text == "national":
        return Node("national", HUB)
    role, _, code = text.partition(":")
    if role == "province" and len(code) == 2 and code.isdigit() and code != HUB:
        return Node("province", code)
    raise ImproperlyConfigured(
        f"XUEJI_NODE={text!r}: expected 'province:<two digits>' or 'national' (or unset)"
    )


def this_node() -> Node:
    return parse_node(getattr(settings, "XUEJI_NODE", ""))


def node_secrets() -> dict[str, str]:
    """The hub's table of node credentials: province → shared secret (XUEJI_HUB_NODE_SECRETS)."""
    return dict(getattr(settings, "XUEJI_HUB_NODE_SECRETS", {}) or {})
