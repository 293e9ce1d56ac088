from django.urls import path

from kpi import views

urlpatterns = [
    path("dashboard/", views.dashboard_page, name="dashboard"),
    path("dashboard/leads/", views.drill_down, name="dashboard_leads"),
    path(
        "dashboard/campaigns/leads/",
        views.campaign_drill_down,
        name="dashboard_campaign_leads",
    ),
    path("dashboard/export/", views.table_export, name="dashboard_export"),
    path("dashboard/hq/", views.headquarters_page, name="dashboard_hq"),
    path("dashboard/daily/", views.daily_page, name="dashboard_daily"),
    path("dashboard/daily/xlsx/", views.daily_export, name="dashboard_daily_xlsx"),
    path("dashboard/scores/", views.scores_page, name="dashboard_scores"),
    path("dashboard/scores/mine/", views.my_scores_page, name="dashboard_my_scores"),
    path("dashboard/dcc/", views.dcc_board_page, name="dashboard_dcc"),
]
