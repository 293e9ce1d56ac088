from django.urls import path

from calls import push, views

urlpatterns = [
    path("phone/push/<str:push_key>/", push.receive_push, name="phone_push"),
    path("calls/panel/", views.call_panel, name="call_panel"),
    path("calls/<int:call_id>/status/", views.call_status, name="call_status"),
    path("calls/<int:call_id>/capture/", views.capture, name="call_capture"),
    path("calls/<int:call_id>/dismiss/", views.dismiss, name="call_dismiss"),
    path("leads/<int:lead_id>/dial/", views.dial, name="call_dial"),
    path("calls/recordings/<int:recording_id>/", views.play, name="call_recording"),
    path("leads/<int:lead_id>/recordings/", views.lead_recordings, name="lead_recordings"),
]
