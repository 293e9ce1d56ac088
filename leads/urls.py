from django.urls import path

from leads.views import lead, queue, settings, showroom, team

urlpatterns = [
    path("search/", lead.search, name="search"),
    path("leads/", lead.lead_list, name="lead_list"),
    path("leads/new/", lead.lead_new, name="lead_new"),
    path("leads/<int:lead_id>/", lead.lead_detail, name="lead_detail"),
    path("leads/<int:lead_id>/act/<str:action>/", lead.lead_action, name="lead_action"),
    path("leads/<int:lead_id>/reveal-phone/", lead.reveal_phone, name="reveal_phone"),
    path("queue/", queue.queue, name="queue"),
    path("showroom/", showroom.showroom, name="showroom"),
    path("team/", team.board, name="team"),
    path("settings/", settings.dealer_settings, name="dealer_settings"),
]
