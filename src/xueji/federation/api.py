"""The federation app's REST endpoints (mounted at /api/federation/)."""

from ninja import Router

router = Router(tags=["federation"])
