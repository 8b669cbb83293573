"""Requests between nodes signed with the node's credential (HMAC-SHA256).

A node signs `timestamp \\n method \\n path \\n sha256(body)` with its secret and sends its
province, the timestamp and the signature in headers; the hub recomputes it with the secret it
holds for that province and refuses a request older than MAX_SKEW seconds. The province the hub
acts for is the one the signature proves, never one named in the body.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

NODE_HEADER = "X-Xueji-Node"
TIME_HEADER = "X-Xueji-Timestamp"
SIGNATURE_HEADER = "X-Xueji-Signature"
MAX_SKEW = 300


def signature(secret: str, *, timestamp: str, method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256(body).hexdigest()
    text = f"{timestamp}\n{method.upper()}\n{path}\n{digest}".encode()
    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()


def signed_headers(
    province: str, secret: str, *, method: str, path: str, body: bytes
) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        NODE_HEADER: province,
        TIME_HEADER: timestamp,
        SIGNATURE_HEADER: signature(
            secret, timestamp=timestamp, method=method, path=path, body=body
        ),
    }


def verified_node(
    headers: Mapping[str, str],
    *,
    secrets: dict[str, str],
    method: str,
    path: str,
    body: bytes,
    now: float | None = None,
) -> str | None:
    """The province whose credential signed the request, or None."""
    get = headers.get
    province = get(NODE_HEADER) or ""
    timestamp = get(TIME_HEADER) or ""
    given = get(SIGNATURE_HEADER) or ""
    secret = secrets.get(province)
    if not secret or not timestamp.isdigit() or not given:
        return None
    if abs((now if now is not None else time.time()) - int(timestamp)) > MAX_SKEW:
        return None
    expected = signature(secret, timestamp=timestamp, method=method, path=path, body=body)
    return province if hmac.compare_digest(expected, given) else None
