"""Initial passwords: chosen by the system, shown once to whoever hands them over, changed by the
user at the first login."""

from __future__ import annotations

import secrets

# No 0/O, 1/l/I: the password is read off a screen or a sheet and typed by someone else.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789"
LENGTH = 12


def initial_password() -> str:
    """12 characters (about 69 bits) with a capital, a small letter and a digit."""
    while True:
        candidate = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        if (
            any(c.isupper() for c in candidate)
            and any(c.islower() for c in candidate)
            and any(c.isdigit() for c in candidate)
        ):
            return candidate
