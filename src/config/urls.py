from django.urls import include, path

from config.api import api

urlpatterns = [
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("xueji.access.urls")),
    path("", include("xueji.students.urls")),
    path("", include("xueji.schools.urls")),
    path("", include("xueji.geo.urls")),
    path("", include("xueji.corrections.urls")),
    path("", include("xueji.changes.urls")),
    path("", include("xueji.verification.urls")),
    path("", include("xueji.scores.urls")),
    path("", include("xueji.stats.urls")),
    path("", include("xueji.yearend.urls")),
    path("", include("xueji.imports.urls")),
    path("", include("xueji.exports.urls")),
    path("", include("xueji.trail.urls")),
    path("", include("xueji.accounts.urls")),
    path("", include("xueji.identity.urls")),
    path("", include("xueji.attendance.urls")),
    path("", include("xueji.welfare.urls")),
    path("", include("xueji.archive.urls")),
    path("", include("xueji.reporting.urls")),
    path("", include("xueji.federation.urls")),
]
