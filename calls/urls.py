from django.urls import path

from calls import push, views, views_setup

urlpatterns = [
    path("phone/push/<str:push_key>/", push.receive_push, name="phone_push"),
    path("calls/panel/", views.call_panel, name="call_panel"),
    path("calls/<int:call_id>/status/", views.call_status, name="call_status"),
    path("calls/<int:call_id>/capture/", views.capture, name="call_capture"),
    path("calls/<int:call_id>/dismiss/", views.dismiss, name="call_dismiss"),
    path("leads/<int:lead_id>/dial/", views.dial, name="call_dial"),
    path("calls/recordings/<int:recording_id>/", views.play, name="call_recording"),
    path("leads/<int:lead_id>/recordings/", views.lead_recordings, name="lead_recordings"),
    # The dealer's phone settings (in the settings area)
    path("settings/phone/", views_setup.account_list, name="settings_phone"),
    path(
        "settings/phone/accounts/new/<str:provider>/",
        views_setup.account_new,
        name="settings_phone_account_new",
    ),
    path(
        "settings/phone/accounts/<int:account_id>/",
        views_setup.account_edit,
        name="settings_phone_account",
    ),
    path(
        "settings/phone/accounts/<int:account_id>/push-key/",
        views_setup.account_push_key,
        name="settings_phone_push_key",
    ),
    path(
        "settings/phone/accounts/<int:account_id>/generate/<str:key>/",
        views_setup.account_generate,
        name="settings_phone_generate",
    ),
    path(
        "settings/phone/accounts/<int:account_id>/seats/",
        views_setup.seat_list,
        name="settings_phone_seats",
    ),
    path(
        "settings/phone/accounts/<int:account_id>/seats/add/",
        views_setup.seat_add,
        name="settings_phone_seat_add",
    ),
    path(
        "settings/phone/accounts/<int:account_id>/seats/<int:seat_id>/remove/",
        views_setup.seat_remove,
        name="settings_phone_seat_remove",
    ),
    path("settings/phone/lines/", views_setup.line_list, name="settings_phone_lines"),
    path("settings/phone/lines/new/", views_setup.line_new, name="settings_phone_line_new"),
    path("settings/phone/lines/<int:line_id>/", views_setup.line_edit, name="settings_phone_line"),
    path("settings/phone/blocked/", views_setup.blocked_list, name="settings_phone_blocked"),
    path(
        "settings/phone/blocked/<int:blocked_id>/remove/",
        views_setup.blocked_remove,
        name="settings_phone_unblock",
    ),
    path("settings/phone/scripts/", views_setup.script_list, name="settings_phone_scripts"),
    path(
        "settings/phone/scripts/<str:purpose>/",
        views_setup.script_edit,
        name="settings_phone_script",
    ),
    path("settings/phone/retention/", views_setup.retention, name="settings_phone_retention"),
    path("settings/phone/history/", views_setup.history_import, name="settings_phone_history"),
]
