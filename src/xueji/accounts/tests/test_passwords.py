"""Argon2 hashes passwords; older hashes are upgraded to it at the next login."""

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher, make_password

import config.settings as project_settings

ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_argon2_is_the_first_hasher_of_the_project():
    # The autouse fixture of src/xueji/conftest.py swaps in MD5 for speed; the project's own
    # settings module is what production runs.
    assert project_settings.PASSWORD_HASHERS[0] == ARGON2


@pytest.mark.django_db
def test_passwords_are_hashed_with_argon2_and_old_hashes_are_upgraded(settings, registrar):
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    hashed = make_password("s3cret-passphrase")
    assert identify_hasher(hashed).algorithm == "argon2"
    assert check_password("s3cret-passphrase", hashed)

    registrar.password = make_password("s3cret-passphrase", hasher="pbkdf2_sha256")
    registrar.save()
    assert registrar.check_password("s3cret-passphrase")
    registrar.refresh_from_db()
    assert registrar.password.startswith("argon2$")
