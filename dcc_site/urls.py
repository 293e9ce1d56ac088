from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from dcc_site import views
from dcc_site.api import api

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.svg"), permanent=True)),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("dealer/", views.switch_dealer, name="switch_dealer"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("", include("leads.urls")),
    path("", include("intake.urls")),
    path("", include("calls.urls")),
    path("", include("owners.urls")),
    path("", include("audit.urls")),
    path("", include("campaigns.urls")),
    path("", include("kpi.urls")),
    path("", include("platforms.urls")),
    path("", include("privacy.urls")),
    path("", include("sms.urls")),
]

# Refusals are pages in the person's language with the menu (JSON under /api/): dcc_site.refusals.
handler400 = "dcc_site.refusals.bad_request"
handler403 = "dcc_site.refusals.permission_denied"
handler404 = "dcc_site.refusals.page_not_found"
