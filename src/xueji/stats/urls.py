from django.urls import path

from xueji.stats import views
from xueji.stats.registry import STATISTICS

app_name = "stats"
urlpatterns = [
    *(path(s.path, views.PAGES[key], name=s.name) for key, s in STATISTICS.items()),
    path(
        "stats/<slug:page>/export/<slug:key>.<slug:fmt>",
        views.export,
        name="export",
    ),
]
