import base64
import os

import pytest
from cryptography.exceptions import InvalidTag

from xueji.core import crypto


@pytest.fixture
def keys(monkeypatch):
    """Two configured keys: k2 encrypts, both decrypt."""

    def configure(spec: str) -> None:
        monkeypatch.setenv("XUEJI_FIELD_KEYS", spec)
        monkeypatch.setenv("XUEJI_INDEX_KEY", base64.b64encode(b"i" * 32).decode())
        crypto.reset_keyring()

    old, new = base64.b64encode(os.urandom(32)).decode(), base64.b64encode(os.urandom(32)).decode()
    configure(f"k1:{old}")
    yield lambda: configure(f"k2:{new},k1:{old}")
    crypto.reset_keyring()


def test_round_trip_hides_the_value_and_varies_per_encryption():
    a = crypto.encrypt("11010519491231002X", context="student.id_number")
    b = crypto.encrypt("11010519491231002X", context="student.id_number")
    assert a != b and "11010519491231002X" not in a
    assert crypto.decrypt(a, context="student.id_number") == "11010519491231002X"


def test_a_value_cannot_be_moved_to_another_field():
    token = crypto.encrypt("11010519491231002X", context="student.id_number")
    with pytest.raises(InvalidTag):
        crypto.decrypt(token, context="family.id_number")


def test_a_tampered_value_is_refused():
    token = crypto.encrypt("11010519491231002X", context="student.id_number")
    version, kid, payload = token.split(".", 2)
    raw = bytearray(base64.urlsafe_b64decode(payload))
    raw[-1] ^= 1
    with pytest.raises(InvalidTag):
        crypto.decrypt(
            f"{version}.{kid}.{base64.urlsafe_b64encode(bytes(raw)).decode()}",
            context="student.id_number",
        )


def test_rotation_new_key_encrypts_old_key_still_decrypts(keys):
    under_old = crypto.encrypt("440304201503050012", context="c")
    index_before = crypto.blind_index("440304201503050012", context="c")
    keys()  # k2 introduced as the active key, k1 kept for reading
    under_new = crypto.encrypt("440304201503050012", context="c")
    assert crypto.key_id_of(under_old) == "k1" and crypto.key_id_of(under_new) == "k2"
    assert crypto.decrypt(under_old, context="c") == crypto.decrypt(under_new, context="c")
    assert crypto.blind_index("440304201503050012", context="c") == index_before


def test_blind_index_is_stable_keyed_and_separated_by_context():
    one = crypto.blind_index("440304201503050012", context="student.id_number")
    assert one == crypto.blind_index("440304201503050012", context="student.id_number")
    assert one != crypto.blind_index("440304201503050012", context="family.id_number")
    assert one != crypto.blind_index("440304201503050013", context="student.id_number")
    assert len(one) == crypto.INDEX_HEX_CHARS
