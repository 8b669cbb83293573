from django.urls import path

from xueji.trail import views

app_name = "audit"
urlpatterns = [
    path("audit/", views.search, name="search"),
]
