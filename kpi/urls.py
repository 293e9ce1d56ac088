from django.urls import path

from kpi import views

urlpatterns = [
    path("dashboard/", views.dashboard_page, name="dashboard"),
    path("dashboard/leads/", views.drill_down, name="dashboard_leads"),
]
