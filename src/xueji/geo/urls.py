from django.urls import path

from xueji.geo import views

app_name = "geo"
urlpatterns = [
    path("divisions/picker/", views.division_picker, name="division_picker"),
]
