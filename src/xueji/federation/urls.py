from django.urls import URLPattern, path

from xueji.federation import health, hub_api, views

app_name = "federation"
urlpatterns: list[URLPattern] = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("hub/v1/reserve/", hub_api.reserve, name="hub_reserve"),
    path("hub/v1/holder/", hub_api.holder, name="hub_holder"),
    path("hub/v1/similar/", hub_api.similar, name="hub_similar"),
    path("hub/v1/claim_once/", hub_api.claim_once, name="hub_claim_once"),
    path("national/lookup/", views.lookup, name="lookup"),
    path("national/statistics/", views.statistics, name="statistics"),
    path("national/nodes/", views.nodes, name="nodes"),
]
