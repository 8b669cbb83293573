"""SM2 signatures (GB/T 32918.2) on the recommended curve, through gmssl, with what gmssl leaves
to its caller done here.

The signature is the standard one: e = SM3(Z_A || M), Z_A hashed over the default user id
"1234567812345678" (as GM/T 0009 and OpenSSL's SM2 default), which gmssl's
`sign_with_sm3`/`verify_with_sm3` compute; it is written as r || s, 32 bytes each.

What gmssl does not do, and this module does:
- the per-signature secret k comes from `secrets` (gmssl's own comes from `random.choice`, a
  generator whose output can be predicted: k known gives the private key away);
- the public key is set on the signer as the 64 bytes x || y (gmssl's constructor strips a
  leading "04" with str.lstrip, which also eats a coordinate's leading '0' and '4' digits);
- r and s are checked to lie in [1, n-1] before verifying, and a public key to be a point of
  the curve, as the standard requires;
- a private key is in [1, n-2].
"""

from __future__ import annotations

import secrets

from gmssl import sm2 as gmssl_sm2

CURVE = gmssl_sm2.default_ecc_table
P = int(CURVE["p"], 16)
A = int(CURVE["a"], 16)
B = int(CURVE["b"], 16)
N = int(CURVE["n"], 16)
G = CURVE["g"]
SIGNATURE_BYTES = 64
PUBLIC_KEY_BYTES = 64  # x || y (an uncompressed point without its leading 04)
PRIVATE_KEY_BYTES = 32


def _crypt(private_hex: str, public_hex: str) -> gmssl_sm2.CryptSM2:
    crypt = gmssl_sm2.CryptSM2(private_key=private_hex, public_key="")
    crypt.public_key = public_hex
    return crypt


class SM2PublicKey:
    def __init__(self, point_hex: str) -> None:
        self._hex = point_hex
        self._verifier = _crypt("", point_hex)

    @classmethod
    def from_bytes(cls, raw: bytes) -> SM2PublicKey:
        """x || y (64 bytes) or 04 || x || y; ValueError if it is not a point of the curve."""
        if len(raw) == PUBLIC_KEY_BYTES + 1 and raw[0] == 4:
            raw = raw[1:]
        if len(raw) != PUBLIC_KEY_BYTES:
            raise ValueError("an SM2 public key is 64 bytes (x || y)")
        x, y = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
        if not (x < P and y < P and (y * y - (x * x * x + A * x + B)) % P == 0):
            raise ValueError("the SM2 public key is not a point of the curve")
        return cls(raw.hex())

    def to_bytes(self) -> bytes:
        return bytes.fromhex(self._hex)

    def verify(self, signature: bytes, message: bytes) -> bool:
        if len(signature) != SIGNATURE_BYTES:
            return False
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        if not (1 <= r < N and 1 <= s < N):
            return False
        return bool(self._verifier.verify_with_sm3(signature.hex(), message))


class SM2PrivateKey:
    def __init__(self, secret: int) -> None:
        if not 1 <= secret <= N - 2:
            raise ValueError("an SM2 private key lies in [1, n-2]")
        private_hex = f"{secret:064x}"
        signer = _crypt(private_hex, "")
        point = signer._kg(secret, G)
        signer.public_key = point
        self._signer = signer
        self._public = SM2PublicKey(point)

    @classmethod
    def from_bytes(cls, raw: bytes) -> SM2PrivateKey:
        if len(raw) != PRIVATE_KEY_BYTES:
            raise ValueError("an SM2 private key is 32 bytes")
        return cls(int.from_bytes(raw, "big"))

    @classmethod
    def derive(cls, seed: bytes) -> SM2PrivateKey:
        """A key made from 32 bytes of secret material (development keys)."""
        return cls(1 + int.from_bytes(seed, "big") % (N - 2))

    @classmethod
    def generate(cls) -> SM2PrivateKey:
        return cls(1 + secrets.randbelow(N - 2))

    def to_bytes(self) -> bytes:
        return int(self._signer.private_key, 16).to_bytes(PRIVATE_KEY_BYTES, "big")

    def public_key(self) -> SM2PublicKey:
        return self._public

    def sign(self, message: bytes) -> bytes:
        """r || s over SM3(Z_A || message), Z_A with the default user id."""
        while True:
            k = f"{1 + secrets.randbelow(N - 1):064x}"
            signature = self._signer.sign_with_sm3(message, k)
            if signature:  # None in the negligible cases the standard says to retry
                return bytes.fromhex(signature)
