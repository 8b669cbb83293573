from __future__ import annotations

import time

from xueji.federation.signing import signed_headers, verified_node

SECRETS = {"44": "s44", "11": "s11"}


def _check(headers: dict[str, str], body: bytes = b"{}", path: str = "/hub/v1/reserve/", **kw):
    return verified_node(headers, secrets=SECRETS, method="POST", path=path, body=body, **kw)


def test_a_signed_request_names_its_province() -> None:
    headers = signed_headers("44", "s44", method="POST", path="/hub/v1/reserve/", body=b"{}")
    assert _check(headers) == "44"


def test_a_changed_body_path_province_or_secret_is_refused() -> None:
    headers = signed_headers("44", "s44", method="POST", path="/hub/v1/reserve/", body=b"{}")
    assert _check(headers, body=b'{"x":1}') is None
    assert _check(headers, path="/hub/v1/holder/") is None
    assert _check({**headers, "X-Xueji-Node": "11"}) is None
    forged = signed_headers("44", "s11", method="POST", path="/hub/v1/reserve/", body=b"{}")
    assert _check(forged) is None
    assert _check({}) is None


def test_an_old_request_is_refused() -> None:
    headers = signed_headers("44", "s44", method="POST", path="/hub/v1/reserve/", body=b"{}")
    assert _check(headers, now=time.time() + 301) is None
    assert _check(headers, now=time.time() + 200) == "44"
