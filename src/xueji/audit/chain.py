"""The hash chains of the audit trail: what an entry's hash covers, and how values are normalised.

The trail is many chains, one per acting unit (xueji.audit.chains): entry n of a chain has a hash
that is SHA-256 over (entry n-1's hash, as 64 hex characters) + (the canonical JSON of entry n's
own fields, its chain's key among them, so that an entry cannot be moved to another chain). The
canonical JSON has sorted keys, no whitespace, UTF-8 text; values are normalised before they are
stored, so the stored row hashes to the same value when read back from SQLite or PostgreSQL.

The entries written before the trail had several chains form the legacy chain, whose key is ""
and whose hashes do not cover a chain key (the layout is told apart by that key: nothing new is
ever written to it). Changing this layout breaks every existing chain: don't, or version it.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from xueji.core.exports import mask_identifiers

# The "previous hash" of the first entry of a chain.
GENESIS_HASH = "0" * 64

# The chain of the entries written before there were several (their hashes cover no chain key).
LEGACY_CHAIN = ""

# The fields of an entry that its hash covers, in the canonical JSON's key names ("chain" is
# left out in the legacy chain).
HASHED_FIELDS = (
    "chain",
    "seq",
    "at",
    "actor_id",
    "actor_username",
    "actor_role",
    "actor_school_id",
    "actor_division",
    "ip_address",
    "action",
    "object_type",
    "object_id",
    "detail",
    "before",
    "after",
    "request_id",
)


def _clean_text(text: str) -> str:
    # PostgreSQL text and jsonb refuse NUL; an attacker's path or form value may carry one.
    text = text.replace("\x00", "\ufffd")
    # Audit details never keep an identity number in clear (the trail is read by auditors and
    # dumped with the database), and a mistyped or old 15-digit one is as private as a valid one:
    # the one masking exports use, so both agree on what counts as a number to hide.
    return mask_identifiers(text)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, dict):
        return {_clean_text(str(key)): _clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean(item) for item in value]
    return value


def json_value(value: Any) -> Any:
    """A JSON-native copy of `value` (dates, UUIDs, decimals become strings), with NUL removed and
    identity numbers (runs of 15 to 20 digits, also in student numbers) masked in its text: what
    is stored is exactly what is hashed."""
    if value is None:
        return None
    return _clean(json.loads(json.dumps(value, cls=DjangoJSONEncoder)))


def text_value(value: Any, max_length: int) -> str:
    return _clean_text(str(value or ""))[:max_length]


def ip_value(value: str | None) -> str | None:
    """A valid IP address in Python's canonical text, or None (IPv4-mapped IPv6 becomes IPv4)."""
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def at_value(at: datetime.datetime) -> str:
    """UTC, to the microsecond: the precision both databases keep."""
    return at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(fields: Any) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_fields(entry: Any) -> dict[str, Any]:
    """The hashed fields of an AuditEntry (saved or about to be), in canonical form: its chain's
    key among them, except in the legacy chain, whose hashes were computed without it."""
    chain = getattr(entry, "chain", LEGACY_CHAIN)
    return {
        **({} if chain == LEGACY_CHAIN else {"chain": chain}),
        "seq": entry.seq,
        "at": at_value(entry.at),
        "actor_id": entry.actor_id,
        "actor_username": entry.actor_username,
        "actor_role": entry.actor_role,
        "actor_school_id": entry.actor_school_id,
        "actor_division": entry.actor_division,
        "ip_address": entry.ip_address,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": None if entry.object_id is None else str(entry.object_id),
        "detail": entry.detail,
        "before": entry.before,
        "after": entry.after,
        "request_id": str(entry.request_id),
    }


def entry_hash(prev_hash: str, entry: Any) -> str:
    payload = prev_hash + canonical_json(entry_fields(entry))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
