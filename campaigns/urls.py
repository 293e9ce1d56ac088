from django.urls import path

from campaigns import views

urlpatterns = [
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/new/", views.campaign_new, name="campaign_new"),
    path("campaigns/<int:campaign_id>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:campaign_id>/edit/", views.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:campaign_id>/subsidy/", views.subsidy_page, name="subsidy"),
    path("campaigns/subsidies/", views.running_subsidies, name="running_subsidies"),
    path("campaigns/subsidy/<int:month_id>/check/", views.subsidy_check, name="subsidy_check"),
    path("campaigns/subsidy/<int:month_id>/paid/", views.subsidy_paid, name="subsidy_paid"),
    path("campaigns/subsidy/<int:month_id>/photo/", views.sticker_photo, name="sticker_photo"),
    path("campaigns/stand/", views.stand_page, name="stand"),
    path("campaigns/stand/send/", views.stand_send, name="stand_send"),
    # Public: what a capture code's QR code opens.
    path("c/<str:code>/", views.capture_page, name="capture"),
    path("c/<str:code>/done/", views.capture_done, name="capture_done"),
]
