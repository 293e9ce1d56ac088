from django.urls import path

from privacy import views

urlpatterns = [
    path("leads/<int:lead_id>/consent/", views.lead_consent, name="lead_consent"),
    path(
        "leads/<int:lead_id>/consent/do-not-call/",
        views.lead_do_not_call,
        name="lead_do_not_call",
    ),
    path("privacy/", views.privacy_home, name="privacy"),
    path("privacy/customers/<int:customer_id>/", views.customer_privacy, name="privacy_customer"),
    path(
        "privacy/customers/<int:customer_id>/export.<str:file_format>",
        views.customer_export,
        name="privacy_export",
    ),
    path(
        "privacy/customers/<int:customer_id>/erase/",
        views.customer_erase,
        name="privacy_erase",
    ),
    path("privacy/do-not-call/", views.do_not_call, name="do_not_call"),
    path(
        "privacy/do-not-call/<int:entry_id>/remove/",
        views.do_not_call_remove,
        name="do_not_call_remove",
    ),
    path("settings/privacy/", views.privacy_settings, name="settings_privacy"),
]
