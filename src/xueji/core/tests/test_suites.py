"""The national algorithms against their published examples: SM3 (GB/T 32905), SM4 (GB/T 32907)
and SM4-GCM (RFC 8998), HMAC-SM3 against a second SM3 implementation, SM2 (GB/T 32918.2) with its
standard's example, and the signatures this project makes with it."""

import base64
import random
import shutil
import subprocess

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from gmssl import sm2 as gmssl_sm2
from gmssl import sm3 as gmssl_sm3

from xueji.core import sm2, suites
from xueji.core.suites import SM4GCM, IndexMac, sm3_digest


def test_sm3_of_the_standards_two_examples():
    """GB/T 32905-2016, appendix A: "abc" and "abcd" sixteen times."""
    assert sm3_digest(b"abc").hex() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )
    assert sm3_digest(b"abcd" * 16).hex() == (
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    )


def test_sm4_block_of_the_standards_example():
    """GB/T 32907-2016, appendix A, example 1: the key and the plaintext are the same block."""
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    assert (encryptor.update(key) + encryptor.finalize()).hex() == (
        "681edf34d206965e86b3e94f536e4246"
    )


RFC8998_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
RFC8998_IV = bytes.fromhex("00001234567800000000ABCD")
RFC8998_AAD = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
RFC8998_PLAIN = bytes.fromhex(
    "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
    "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
)
RFC8998_SEALED = bytes.fromhex(
    "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
    "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
    "83DE3541E4C2B58177E065A9BF7B62EC"  # the tag
)


def test_sm4_gcm_of_rfc_8998():
    """RFC 8998, appendix A.1: SM4-GCM as the field cipher lays it out (ciphertext, then tag)."""
    cipher = SM4GCM(RFC8998_KEY)
    assert cipher.encrypt(RFC8998_IV, RFC8998_PLAIN, RFC8998_AAD) == RFC8998_SEALED
    assert cipher.decrypt(RFC8998_IV, RFC8998_SEALED, RFC8998_AAD) == RFC8998_PLAIN


def test_sm4_gcm_refuses_what_does_not_authenticate():
    cipher = SM4GCM(RFC8998_KEY)
    flipped = bytearray(RFC8998_SEALED)
    flipped[3] ^= 1
    for sealed, aad in ((bytes(flipped), RFC8998_AAD), (RFC8998_SEALED, b"other"), (b"x", b"")):
        with pytest.raises(InvalidTag):
            cipher.decrypt(RFC8998_IV, sealed, aad)
    with pytest.raises(ValueError, match="16 bytes"):
        SM4GCM(bytes(32))


def _hmac_by_hand(key: bytes, message: bytes) -> str:
    """RFC 2104 over gmssl's own SM3 (a second implementation: 64-byte blocks)."""
    block = key.ljust(64, b"\0")
    inner = bytes(b ^ 0x36 for b in block) + message
    inner_digest = bytes.fromhex(gmssl_sm3.sm3_hash(list(inner)))
    return str(gmssl_sm3.sm3_hash(list(bytes(b ^ 0x5C for b in block) + inner_digest)))


def test_hmac_sm3_of_the_blind_index_is_rfc_2104_over_sm3():
    key = bytes(range(32))
    mac = IndexMac(suites.SUITES[suites.SM], key)
    for message in (b"", b"document\x001:11010519491231002X", b"x" * 200):
        assert mac.hexdigest(message) == _hmac_by_hand(key, message)
    assert mac.hexdigest(b"a") == mac.hexdigest(b"a") != mac.hexdigest(b"b")


# ---- SM2 ---------------------------------------------------------------------------------------

# GB/T 32918.2-2016 appendix A (and GM/T 0003.2): the example over its 256-bit test curve, user
# ALICE123@YAHOO.COM, message "message digest", with the standard's k.
EXAMPLE_CURVE = {
    "p": "8542D69E4C044F18E8B92435BF6FF7DE457283915C45517D722EDB8B08F1DFC3",
    "a": "787968B4FA32C3FD2417842E73BBFEFF2F3C848B6831D7E0EC65228B3937E498",
    "b": "63E4C6D3B23B0C849CF84241484BFE48F61D59A5B16BA06E6E12D1DA27C5249A",
    "g": "421DEBD61B62EAB6746434EBC3CC315E32220B3BADD50BDC4C4E6C147FEDD43D"
    "0680512BCBB42C07D47349D2153B70C4E5D7FDFCBFA36EA1A85841B9E46E09A2",
    "n": "8542D69E4C044F18E8B92435BF6FF7DD297720630485628D5AE74EE7C32E79B7",
}
EXAMPLE_PRIVATE = "128B2FA8BD433C6C068C8D803DFF79792A519A55171B1B650C23661D15897263"
EXAMPLE_PUBLIC = (
    "0AE4C7798AA0F119471BEE11825BE46202BB79E2A5844495E97C04FF4DF2548A"
    "7C0240F88F1CD4E16352A73C17B7F16F07353E53A176D684A9FE0C6BB798E857"
)
EXAMPLE_Z = "F4A38489E32B45B6F876E3AC2168CA392362DC8F23459C1D1146FC3DBFB7BC9A"
EXAMPLE_K = "6CB28D99385C175C94F94E934817663FC176D925DD72B727260DBAAE1FB2F96F"
EXAMPLE_R = "40F1EC59F793D9F49E09DCEF49130D4194F79FB1EED2CAA55BACDB49C4E755D1"
EXAMPLE_S = "6FC6DAC32C5D5CF10C77DFB20F7C2EB667A457872FB09EC56327A67EC7DEEBE7"


def test_sm2_signature_of_the_standards_example():
    """gmssl's SM2 arithmetic, which the audit's SM2 signatures rest on, gives the standard's
    public key, Z_A, r and s."""
    crypt = gmssl_sm2.CryptSM2(private_key=EXAMPLE_PRIVATE, public_key="", ecc_table=EXAMPLE_CURVE)
    public = crypt._kg(int(EXAMPLE_PRIVATE, 16), EXAMPLE_CURVE["g"])
    assert public.upper() == EXAMPLE_PUBLIC
    crypt.public_key = public
    user = b"ALICE123@YAHOO.COM"
    z = (len(user) * 8).to_bytes(2, "big") + user
    z += bytes.fromhex(EXAMPLE_CURVE["a"] + EXAMPLE_CURVE["b"] + EXAMPLE_CURVE["g"] + public)
    assert sm3_digest(z).hex().upper() == EXAMPLE_Z
    e = sm3_digest(bytes.fromhex(EXAMPLE_Z) + b"message digest")
    assert crypt.sign(e, EXAMPLE_K).upper() == EXAMPLE_R + EXAMPLE_S
    assert crypt.verify(EXAMPLE_R + EXAMPLE_S, e)


def test_sm2_signs_and_verifies_and_refuses_a_tampered_message_or_signature():
    key = sm2.SM2PrivateKey.generate()
    public = key.public_key()
    message = b'{"log":"xueji-audit","number":7}'
    signature = key.sign(message)
    assert len(signature) == sm2.SIGNATURE_BYTES
    assert public.verify(signature, message)
    assert not public.verify(signature, message.replace(b"7", b"8"))
    tampered = bytearray(signature)
    tampered[40] ^= 1
    assert not public.verify(bytes(tampered), message)
    assert not sm2.SM2PrivateKey.generate().public_key().verify(signature, message)
    # r and s outside [1, n-1] are refused before any arithmetic.
    assert not public.verify(bytes(32) + signature[32:], message)
    assert not public.verify(sm2.N.to_bytes(32, "big") + signature[32:], message)
    # The public key travels as its 64 bytes and comes back the same.
    assert sm2.SM2PublicKey.from_bytes(public.to_bytes()).verify(signature, message)
    assert sm2.SM2PublicKey.from_bytes(b"\x04" + public.to_bytes()).verify(signature, message)


def test_sm2_nonces_do_not_come_from_the_random_module():
    """gmssl draws k with random.choice; a known k gives the private key away. Here k comes
    from `secrets`: seeding `random` alike gives different signatures."""
    key = sm2.SM2PrivateKey.generate()
    random.seed(1)
    first = key.sign(b"same")
    random.seed(1)
    assert key.sign(b"same") != first


def test_sm2_keys_are_checked():
    with pytest.raises(ValueError, match="not a point of the curve"):
        sm2.SM2PublicKey.from_bytes(bytes(63) + b"\x01")
    with pytest.raises(ValueError, match=r"\[1, n-2\]"):
        sm2.SM2PrivateKey.from_bytes((sm2.N - 1).to_bytes(32, "big"))
    with pytest.raises(ValueError, match="32 bytes"):
        sm2.SM2PrivateKey.from_bytes(bytes(31))
    key = sm2.SM2PrivateKey.derive(bytes(range(32)))
    assert sm2.SM2PrivateKey.from_bytes(key.to_bytes()).public_key().to_bytes() == (
        key.public_key().to_bytes()
    )


def _der_integer(value: int) -> bytes:
    raw = value.to_bytes(33, "big").lstrip(b"\0")
    raw = b"\0" + raw if raw[0] & 0x80 else raw
    return b"\x02" + bytes([len(raw)]) + raw


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command")
def test_an_sm2_signature_verifies_with_openssl_under_the_default_user_id(tmp_path):
    """Interoperability: OpenSSL's SM2 (default distinguishing id 1234567812345678) accepts the
    signatures the audit makes, and refuses one over another message."""
    key = sm2.SM2PrivateKey.generate()
    message = b"xueji checkpoint #1"
    signature = key.sign(message)
    body = _der_integer(int.from_bytes(signature[:32], "big"))
    body += _der_integer(int.from_bytes(signature[32:], "big"))
    (tmp_path / "sig.der").write_bytes(b"\x30" + bytes([len(body)]) + body)
    spki = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d03420004")
    pem = base64.encodebytes(spki + key.public_key().to_bytes()).decode()
    (tmp_path / "pub.pem").write_text(
        f"-----BEGIN PUBLIC KEY-----\n{pem}-----END PUBLIC KEY-----\n"
    )

    def openssl_verifies(signed: bytes) -> bool:
        (tmp_path / "message").write_bytes(signed)
        run = subprocess.run(
            [
                "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"),
                "-rawin", "-digest", "sm3", "-in", str(tmp_path / "message"),
                "-sigfile", str(tmp_path / "sig.der"), "-pkeyopt", "distid:1234567812345678",
            ],
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        if "Verified Successfully" not in run.stdout and "Failure" not in run.stdout:
            pytest.skip(f"this openssl does not verify SM2: {run.stderr.strip()[:200]}")
        return run.returncode == 0

    assert openssl_verifies(message)
    assert not openssl_verifies(message + b"!")
