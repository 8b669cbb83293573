"""The welfare app's REST endpoints (mounted at /api/welfare/)."""

from ninja import Router

router = Router(tags=["welfare"])
