"""The REST API, served under /api/ with its OpenAPI document at /api/openapi.json.

Every endpoint needs a caller: a system client's bearer token or the browser's session, and acts
with that user's role and scope.
"""

from ninja import NinjaAPI

from xueji.access.auth import API_AUTH
from xueji.accounts.administration.api import router as accounts_router
from xueji.accounts.second_factor.api import router as second_factor_router
from xueji.archive.api import router as archive_router
from xueji.attendance.api import router as attendance_router
from xueji.changes.api import router as changes_router
from xueji.changes.api_rules import router as periods_router
from xueji.core.api import StrictParser, install_error_handlers
from xueji.federation.api import router as federation_router
from xueji.geo.api import router as divisions_router
from xueji.identity.api import router as identity_router
from xueji.imports.api import router as imports_router
from xueji.reporting.api import router as reporting_router
from xueji.schools.api import schools_router
from xueji.schools.api_classes import router as class_setup_router
from xueji.scores.api import router as teaching_router
from xueji.stats.api import router as stats_router
from xueji.students.api import router as students_router
from xueji.students.school_api import classes_router, school_students_router
from xueji.trail.api import router as audit_router
from xueji.verification.api import router as verification_router
from xueji.welfare.api import router as welfare_router
from xueji.yearend.api import router as yearend_router

api = NinjaAPI(
    title="Xueji API",
    version="1",
    description=(
        "The national registry of students' status (学籍). Authenticate with "
        "`Authorization: Bearer <token>` (see `xueji create_api_token`) or a browser session. "
        "Errors are JSON: `code` (stable), `message` (in the Accept-Language language), and "
        "`fields` with a list of codes and messages per field."
    ),
    urls_namespace="api",
    auth=API_AUTH,
    parser=StrictParser(),
)
install_error_handlers(api)

api.add_router("/divisions", divisions_router)
api.add_router("/schools", schools_router)
api.add_router("/schools", school_students_router)
api.add_router("/classes", class_setup_router)
api.add_router("/classes", classes_router)
api.add_router("/teaching", teaching_router)
api.add_router("/students", students_router)
api.add_router("/audit", audit_router)
api.add_router("/stats", stats_router)
api.add_router("/yearend", yearend_router)
api.add_router("/imports", imports_router)
api.add_router("/changes", periods_router)
api.add_router("/changes", changes_router)
api.add_router("/accounts", accounts_router)
api.add_router("/accounts", second_factor_router)
api.add_router("/identity", identity_router)
api.add_router("/attendance", attendance_router)
api.add_router("/welfare", welfare_router)
api.add_router("/archive", archive_router)
api.add_router("/reporting", reporting_router)
api.add_router("/federation", federation_router)
api.add_router("/verification", verification_router)
