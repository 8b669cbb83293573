from django.urls import path

from xueji.welfare import views

app_name = "welfare"

urlpatterns = [
    path("welfare/funding/", views.funding_home, name="funding"),
    path("welfare/funding/flows/", views.flows, name="flows"),
    path("welfare/funding/rates/", views.rates, name="rates"),
    path("welfare/funding/rates/new/", views.rate_new, name="rate_new"),
    path("welfare/funding/census/", views.census, name="census"),
    path("welfare/aid/", views.aid_home, name="aid"),
    path("welfare/aid/programmes/new/", views.programme_new, name="programme_new"),
    path("welfare/aid/need/<uuid:student_id>/", views.need_new, name="need_new"),
    path("welfare/aid/needs/<uuid:need_id>/assess/", views.need_assess, name="need_assess"),
    path("welfare/aid/needs/<uuid:need_id>/decide/", views.need_decide, name="need_decide"),
    path("welfare/aid/apply/<uuid:student_id>/", views.apply, name="apply"),
    path(
        "welfare/aid/applications/<uuid:application_id>/",
        views.application_decide,
        name="application_decide",
    ),
    path("welfare/aid/notice/<int:school_id>/", views.notice, name="notice"),
    path("welfare/aid/payments/", views.payments, name="payments"),
    path("welfare/aid/entitled/", views.entitled, name="entitled"),
    path("welfare/finance/", views.finance, name="finance"),
    path("welfare/meals/", views.meals_home, name="meals"),
    path("welfare/meals/record/", views.meal_record, name="meal_record"),
    path("welfare/meals/settings/", views.meal_settings, name="meal_settings"),
    path("welfare/meals/lookup/<uuid:student_id>/", views.meal_lookup, name="meal_lookup"),
    path("welfare/meals/week/<int:school_id>/", views.meal_week, name="meal_week"),
    path("welfare/meals/claim/<int:school_id>/", views.meal_claim, name="meal_claim"),
    path("welfare/checks/", views.checks_home, name="checks"),
    path("welfare/checks/run/", views.checks_run, name="checks_run"),
    path("welfare/checks/<uuid:finding_id>/", views.finding_detail, name="finding"),
    path(
        "welfare/checks/<uuid:finding_id>/explain/", views.finding_explain, name="finding_explain"
    ),
]
