"""The attendance app's REST endpoints (mounted at /api/attendance/)."""

from ninja import Router

router = Router(tags=["attendance"])
