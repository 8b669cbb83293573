from django.urls import URLPattern, path

from xueji.federation import health, hub_api, views, views_duplicates, views_transfers

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
    # The national bureau's ruling on pairs across provinces the provinces dispute (hub).
    path(
        "national/duplicates/", views_duplicates.national_duplicate_list, name="national_duplicates"
    ),
    path(
        "national/duplicates/<uuid:remote_pair_id>/settle/",
        views_duplicates.national_duplicate_settle,
        name="national_duplicate_settle",
    ),
    # Transfers between provinces across nodes (a province's node).
    path("federation/transfers/", views_transfers.transfer_list, name="transfers"),
    path("federation/transfers/new/", views_transfers.transfer_new, name="transfer_new"),
    path(
        "federation/transfers/<uuid:transfer_id>/",
        views_transfers.transfer_detail,
        name="transfer",
    ),
    path(
        "federation/transfers/<uuid:transfer_id>/evidence/<uuid:cross_evidence_id>/",
        views_transfers.transfer_evidence,
        name="transfer_evidence",
    ),
    path(
        "federation/transfers/<uuid:transfer_id>/withdraw/",
        views_transfers.transfer_withdraw,
        name="transfer_withdraw",
    ),
    path(
        "federation/transfers/<uuid:transfer_id>/school-decision/",
        views_transfers.school_decision,
        name="transfer_school_decision",
    ),
    path(
        "federation/transfers/<uuid:transfer_id>/bureau-decision/",
        views_transfers.bureau_decision,
        name="transfer_bureau_decision",
    ),
    # Duplicates across provinces (a province's part of the hub's national search).
    path("federation/duplicates/", views_duplicates.duplicate_list, name="duplicates"),
    path(
        "federation/duplicates/<uuid:remote_pair_id>/",
        views_duplicates.duplicate_detail,
        name="duplicate",
    ),
    path(
        "federation/duplicates/<uuid:remote_pair_id>/decision/",
        views_duplicates.duplicate_decision,
        name="duplicate_decision",
    ),
    path(
        "federation/duplicates/<uuid:remote_pair_id>/undo/",
        views_duplicates.duplicate_undo,
        name="duplicate_undo",
    ),
]
