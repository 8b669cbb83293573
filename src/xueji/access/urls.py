from django.contrib.auth import views as auth_views
from django.urls import path

from xueji.access import views
from xueji.access.forms import LoginForm

app_name = "access"
urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="access/login.html",
            authentication_form=LoginForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("me/", views.my_role, name="my_role"),
]
