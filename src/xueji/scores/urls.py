from django.urls import path

from xueji.scores import views

app_name = "scores"
urlpatterns = [
    path("scores/", views.home, name="home"),
    path("scores/<int:assignment_id>/", views.enter, name="enter"),
    path("teaching/", views.teaching, name="teaching"),
    path("teaching/add/", views.teaching_add, name="teaching_add"),
    path("teaching/<int:assignment_id>/remove/", views.teaching_remove, name="teaching_remove"),
]
