from django.urls import path

from owners import views, views_events, views_members, views_setup

urlpatterns = [
    path("visits/", views.visit_list, name="return_visits"),
    path("visits/<int:visit_id>/", views.visit_detail, name="return_visit"),
    path("visits/<int:visit_id>/dial/", views.visit_dial, name="return_visit_dial"),
    path("complaints/", views.complaint_list, name="complaints"),
    path("complaints/<int:complaint_id>/", views.complaint_detail, name="complaint"),
    path("owners/<int:customer_id>/", views.owner_detail, name="owner_detail"),
    path("owners/<int:customer_id>/enrol/", views_members.member_enrol, name="member_enrol"),
    path("members/", views_members.member_list, name="members"),
    path("members/<int:member_id>/", views_members.member_detail, name="member"),
    path("leads/<int:lead_id>/referral/", views_members.lead_referral, name="lead_referral"),
    path("settings/members/", views_members.programme_settings, name="settings_members"),
    # Owner events: the event, its invitations (a QR code each), the door
    path("owner-events/", views_events.event_list, name="owner_events"),
    path("owner-events/new/", views_events.event_new, name="owner_event_new"),
    path("owner-events/<int:event_id>/", views_events.event_detail, name="owner_event"),
    path("owner-events/<int:event_id>/door/", views_events.door, name="owner_event_door"),
    path(
        "owner-events/invitations/<str:code>/",
        views_events.invitation_page,
        name="owner_invitation",
    ),
    path(
        "owner-events/invitations/<str:code>/dial/",
        views_events.invitation_dial,
        name="owner_invitation_dial",
    ),
    path("owner-events/check-in/<str:code>/", views_events.check_in_page, name="owner_check_in"),
    # The return-visit plan and questionnaires (in the settings area)
    path("settings/return-visits/", views_setup.plan, name="settings_return_visits"),
    path(
        "settings/return-visits/steps/new/", views_setup.step_edit, name="settings_visit_step_new"
    ),
    path(
        "settings/return-visits/steps/<int:step_id>/",
        views_setup.step_edit,
        name="settings_visit_step",
    ),
    path(
        "settings/questionnaires/new/",
        views_setup.questionnaire_edit,
        name="settings_questionnaire_new",
    ),
    path(
        "settings/questionnaires/<int:questionnaire_id>/",
        views_setup.questionnaire_edit,
        name="settings_questionnaire",
    ),
]
