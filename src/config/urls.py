from django.urls import include, path

from config.api import api

urlpatterns = [
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("xueji.access.urls")),
    path("", include("xueji.students.urls")),
    path("", include("xueji.schools.urls")),
    path("", include("xueji.geo.urls")),
]
