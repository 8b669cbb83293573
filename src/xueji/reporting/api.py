"""The reporting app's REST endpoints (mounted at /api/reporting/)."""

from ninja import Router

router = Router(tags=["reporting"])
