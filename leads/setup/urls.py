from django.urls import path

from leads.setup import views

urlpatterns = [
    path("settings/", views.dealer_settings, name="dealer_settings"),
    path("settings/channels/", views.channel_list, name="settings_channels"),
    path("settings/channels/new/", views.channel_new, name="settings_channel_new"),
    path("settings/channels/<int:channel_id>/", views.channel_edit, name="settings_channel"),
    path("settings/grades/", views.grade_intervals, name="settings_grades"),
    path("settings/rules/", views.rule_list, name="settings_rules"),
    path("settings/rules/new/", views.rule_new, name="settings_rule_new"),
    path("settings/rules/<int:rule_id>/", views.rule_edit, name="settings_rule"),
    path("settings/rules/<int:rule_id>/delete/", views.rule_delete, name="settings_rule_delete"),
    path("settings/reasons/", views.reason_list, name="settings_reasons"),
    path("settings/reasons/<str:kind>/new/", views.reason_new, name="settings_reason_new"),
    path("settings/reasons/<int:reason_id>/", views.reason_edit, name="settings_reason"),
    path(
        "settings/reasons/<int:reason_id>/active/",
        views.reason_active,
        name="settings_reason_active",
    ),
    path("settings/staff/", views.staff_list, name="settings_staff"),
    path("settings/staff/new/", views.staff_new, name="settings_staff_new"),
    path("settings/staff/grant/", views.staff_grant, name="settings_staff_grant"),
    path(
        "settings/staff/roles/<int:membership_id>/revoke/",
        views.membership_revoke,
        name="settings_role_revoke",
    ),
    path(
        "settings/staff/roles/<int:membership_id>/weight/",
        views.membership_weight,
        name="settings_role_weight",
    ),
    path("settings/teams/", views.team_list, name="settings_teams"),
    path("settings/teams/new/", views.team_new, name="settings_team_new"),
    path("settings/teams/<int:team_id>/", views.team_edit, name="settings_team"),
    path(
        "settings/teams/<int:team_id>/members/",
        views.team_member_add,
        name="settings_team_member_add",
    ),
    path(
        "settings/teams/<int:team_id>/members/<int:staff_id>/leave/",
        views.team_member_leave,
        name="settings_team_member_leave",
    ),
]
