from django.contrib.auth import views as auth_views
from django.urls import include, path

from dcc import views
from dcc.api import api

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("dealer/", views.switch_dealer, name="switch_dealer"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("", include("leads.urls")),
]
