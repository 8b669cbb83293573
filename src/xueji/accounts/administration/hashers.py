"""The hash of a password the system chose (a new account's, a reset's, a sheet's).

Such a password is 12 random characters (about 69 bits, passwords.py) and lives until the first
login, where the user must replace it. Guessing it from its hash is out of reach even with a fast
hash, while Argon2 at full strength costs about a second per account here: a county's sheet of
500 accounts would keep its request for minutes. So it is kept under PBKDF2-SHA256 with fewer
rounds, and Django re-hashes it with the preferred hasher (Argon2) at the first login that checks
it; the password the user then chooses is hashed with Argon2 like any other.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

HASHER_PATH = "xueji.accounts.administration.hashers.InitialPasswordHasher"


class InitialPasswordHasher(PBKDF2PasswordHasher):
    algorithm = "xueji_initial_pbkdf2_sha256"
    iterations = 10_000


def set_initial_password(user: Any, password: str) -> None:
    """Set a system-chosen password (unsaved), with the initial hasher where it is configured
    (settings.PASSWORD_HASHERS must list it to verify it later), else the default one."""
    if HASHER_PATH in settings.PASSWORD_HASHERS:
        user.password = make_password(password, hasher=InitialPasswordHasher())
        user._password = password  # as set_password leaves it, for the password validators
    else:
        user.set_password(password)
