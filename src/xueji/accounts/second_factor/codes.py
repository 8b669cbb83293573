"""The codes people type: an enrolment code (16 characters, 80 random bits) and recovery codes
(12 characters, 60 bits), in Crockford's base 32 (digits and capitals without I, L, O and U),
shown in groups of four. What is typed is read the forgiving way (any case, spaces and dashes
ignored, O read as 0, I and L as 1); only digests are stored."""

from __future__ import annotations

import hashlib
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ENROLMENT_CODE_LENGTH = 16
RECOVERY_CODE_LENGTH = 12
GROUP = 4
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code(length: int) -> str:
    """A random code, grouped for reading: 'K7QX-2M9D-…'."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(length))
    return "-".join(raw[i : i + GROUP] for i in range(0, length, GROUP))


def normalized(typed: str) -> str:
    """The characters of a typed code that count, as the code was generated."""
    kept = "".join(c for c in (typed or "").upper() if c not in " -\t")
    return kept.translate(_READ_AS)


def enrolment_digest(typed: str) -> str:
    return hashlib.sha256(normalized(typed).encode()).hexdigest()


def recovery_digest(typed: str) -> str:
    """What django-otp's static device keeps for a recovery code: 16 hex characters (64 bits, its
    token column's width) of the code's SHA-256, so that the database holds no usable code."""
    return hashlib.sha256(b"recovery:" + normalized(typed).encode()).hexdigest()[:16]
