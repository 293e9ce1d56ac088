from django.urls import include, path

from leads.views import lead, lists, queue, showroom, team

urlpatterns = [
    path("search/", lead.search, name="search"),
    path("leads/", lists.lead_list, name="lead_list"),
    path("leads/export/", lists.lead_export, name="lead_export"),
    path("leads/new/", lead.lead_new, name="lead_new"),
    path("leads/<int:lead_id>/", lead.lead_detail, name="lead_detail"),
    path("leads/<int:lead_id>/act/<str:action>/", lead.lead_action, name="lead_action"),
    path("leads/<int:lead_id>/reveal-phone/", lead.reveal_phone, name="reveal_phone"),
    path("queue/", queue.queue, name="queue"),
    path("showroom/", showroom.showroom, name="showroom"),
    path("team/", team.board, name="team"),
    path("team/defeats/", team.defeats, name="team_defeats"),
    path(
        "team/defeats/<int:lead_id>/<str:decision>/",
        team.defeat_decide,
        name="team_defeat_decide",
    ),
    path("team/reassign/", team.reassign, name="team_reassign"),
    path("team/absences/", team.absences, name="team_absences"),
    path("", include("leads.setup.urls")),
]
