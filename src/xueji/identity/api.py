"""The identity app's REST endpoints (mounted at /api/identity/)."""

from ninja import Router

router = Router(tags=["identity"])
