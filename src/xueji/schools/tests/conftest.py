from collections.abc import Callable
from typing import Any

import pytest

from xueji.access.services import api_token_create, api_token_revoke
from xueji.testing.api import ApiClient, World, api_as

# Which of the world's three places ("a", "b" in Futian, "c" in Nanshan) each user's scope covers.
SCOPES = [
    ("registrar_a", {"a"}),
    ("registrar_b", {"b"}),
    ("futian_bureau", {"a", "b"}),
    ("nanshan_bureau", {"c"}),
    ("nation", {"a", "b", "c"}),
    ("nobody", set()),
]


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture(params=SCOPES, ids=[who for who, _visible in SCOPES])
def only_in_scope(request: Any, world: World) -> Callable[..., list[Any]]:
    """For one user of the world: a check that the URL of each place (url_of("a"), …) answers
    200 inside the user's scope and 404 with `code` outside it; it returns the 200 bodies."""
    who, visible = request.param
    client = api_as(getattr(world, who))

    def check(url_of: Callable[[str], str], code: str) -> list[Any]:
        bodies = []
        for key in "abc":
            response = client.get(url_of(key))
            assert response.status_code == (200 if key in visible else 404), (who, key)
            if key in visible:
                bodies.append(response.json())
            else:
                assert response.json()["code"] == code
        return bodies

    return check


@pytest.fixture
def revoked_client(world: World) -> ApiClient:
    """A client whose token, the registrar's of school a, has been revoked."""
    token, raw = api_token_create(actor=None, user=world.registrar_a, name="x")
    api_token_revoke(actor=None, token_id=token.pk)
    return ApiClient(raw)
