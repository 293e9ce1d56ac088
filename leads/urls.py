from django.urls import path

from leads.views import lead, lists, queue, settings, showroom, team

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
    path("settings/", settings.dealer_settings, name="dealer_settings"),
    path("team/defeats/", team.defeats, name="team_defeats"),
    path(
        "team/defeats/<int:lead_id>/<str:decision>/",
        team.defeat_decide,
        name="team_defeat_decide",
    ),
    path("team/reassign/", team.reassign, name="team_reassign"),
    path("team/absences/", team.absences, name="team_absences"),
    path("settings/channels/", settings.channel_list, name="settings_channels"),
    path("settings/channels/new/", settings.channel_new, name="settings_channel_new"),
    path("settings/channels/<int:channel_id>/", settings.channel_edit, name="settings_channel"),
    path("settings/grades/", settings.grade_intervals, name="settings_grades"),
    path("settings/rules/", settings.rule_list, name="settings_rules"),
    path("settings/rules/new/", settings.rule_new, name="settings_rule_new"),
    path("settings/rules/<int:rule_id>/", settings.rule_edit, name="settings_rule"),
    path("settings/rules/<int:rule_id>/delete/", settings.rule_delete, name="settings_rule_delete"),
    path("settings/reasons/", settings.reason_list, name="settings_reasons"),
    path("settings/reasons/<str:kind>/new/", settings.reason_new, name="settings_reason_new"),
    path("settings/reasons/<int:reason_id>/", settings.reason_edit, name="settings_reason"),
    path(
        "settings/reasons/<int:reason_id>/active/",
        settings.reason_active,
        name="settings_reason_active",
    ),
    path("settings/staff/", settings.staff_list, name="settings_staff"),
    path("settings/staff/new/", settings.staff_new, name="settings_staff_new"),
    path("settings/staff/grant/", settings.staff_grant, name="settings_staff_grant"),
    path(
        "settings/staff/roles/<int:membership_id>/revoke/",
        settings.membership_revoke,
        name="settings_role_revoke",
    ),
    path(
        "settings/staff/roles/<int:membership_id>/weight/",
        settings.membership_weight,
        name="settings_role_weight",
    ),
]
