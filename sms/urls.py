from django.urls import path

from sms import push, views

urlpatterns = [
    path("sms/", views.message_list, name="sms"),
    path("sms/outbox/reply/", views.outbox_reply, name="sms_outbox_reply"),
    path("sms/bulk/", views.bulk, name="sms_bulk"),
    path("sms/templates/", views.template_list, name="sms_templates"),
    path("sms/templates/new/", views.template_edit, name="sms_template_new"),
    path("sms/templates/<int:template_id>/", views.template_edit, name="sms_template"),
    path("leads/<int:lead_id>/sms/", views.lead_panel, name="lead_sms"),
    path("settings/sms/", views.settings_page, name="settings_sms"),
    path("settings/sms/push-token/", views.renew_push_token, name="settings_sms_push_token"),
    # Public: where the provider pushes receipts and replies (the token names the dealer).
    path("sms/push/<str:token>/", push.receive_push, name="sms_push"),
]
