from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from xueji.federation.client import hub_transport
from xueji.students import national

from .transport import HubInProcess

SECRETS = {"44": "secret-of-44", "11": "secret-of-11"}


@pytest.fixture
def hub() -> Iterator[HubInProcess]:
    """Province 44's node, whose hub answers through its real views in this process (hub and
    node share the test database: their tables are distinct)."""
    transport = HubInProcess(node_settings={"XUEJI_NODE": "national"})
    with (
        override_settings(
            XUEJI_NODE="province:44",
            XUEJI_NODE_SECRET=SECRETS["44"],
            XUEJI_HUB_NODE_SECRETS=SECRETS,
            XUEJI_HUB_URL="http://hub.test",
            XUEJI_NATIONAL_INDEX="xueji.federation.client.HubNationalIndex",
        ),
        hub_transport(transport),
    ):
        national._configured.cache_clear()
        try:
            yield transport
        finally:
            national._configured.cache_clear()


def as_hub() -> Any:
    return override_settings(XUEJI_NODE="national")
