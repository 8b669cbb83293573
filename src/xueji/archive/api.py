"""The archive app's REST endpoints (mounted at /api/archive/)."""

from ninja import Router

router = Router(tags=["archive"])
