from django.urls import path

from xueji.changes import views, views_rules

app_name = "changes"
urlpatterns = [
    path("changes/", views.queue, name="queue"),
    path("changes/transfer/", views.transfer, name="transfer"),
    path("changes/students/<uuid:student_id>/new/", views.new, name="new"),
    path("changes/<uuid:change_id>/", views.detail, name="detail"),
    path(
        "changes/<uuid:change_id>/school-decision/",
        views.school_decision,
        name="school_decision",
    ),
    path(
        "changes/<uuid:change_id>/bureau-decision/",
        views.bureau_decision,
        name="bureau_decision",
    ),
    path("changes/<uuid:change_id>/withdraw/", views.withdraw, name="withdraw"),
    path(
        "changes/<uuid:change_id>/evidence/<uuid:change_evidence_id>/",
        views.evidence,
        name="evidence",
    ),
    path("changes/notice/<int:school_id>/", views.notice, name="notice"),
    # Closed periods and province rules (views_rules).
    path("changes/periods/", views_rules.periods, name="periods"),
    path("changes/periods/add/", views_rules.period_add, name="period_add"),
    path("changes/periods/adopt/", views_rules.periods_adopt, name="periods_adopt"),
    path("changes/periods/<int:period_id>/", views_rules.period, name="period"),
    path("changes/periods/<int:period_id>/edit/", views_rules.period_edit, name="period_edit"),
    path("changes/periods/<int:period_id>/lift/", views_rules.period_lift, name="period_lift"),
    path("changes/rules/", views_rules.rules, name="rules"),
    path(
        "changes/rules/<str:province_code>/",
        views_rules.province_rules_page,
        name="province_rules",
    ),
    path(
        "changes/rules/<str:province_code>/edit/",
        views_rules.province_rules_edit,
        name="province_rules_edit",
    ),
]
