from django.urls import path

from xueji.students import views

app_name = "students"
urlpatterns = [
    path("", views.home, name="home"),
    path("students/register/", views.register, name="register"),
    path("students/register/member/", views.register_member, name="register_member"),
    path("students/register/id-number/", views.register_id_number, name="register_id_number"),
    path("students/search/", views.search, name="search"),
    path("students/<uuid:student_id>/", views.student_detail, name="detail"),
    path("students/<uuid:student_id>/reveal/", views.reveal_numbers, name="reveal"),
    path("students/<uuid:student_id>/formal-number/", views.formal_number, name="formal_number"),
    path("classes/<int:class_id>/", views.roster, name="roster"),
]
