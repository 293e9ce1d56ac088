from django.urls import path

from intake import views

urlpatterns = [
    path("imports/", views.import_list, name="imports"),
    path("imports/upload/<str:token>/", views.import_preview, name="import_preview"),
    path("imports/<int:job_id>/", views.import_job, name="import_job"),
    path("imports/<int:job_id>/progress/", views.import_progress, name="import_progress"),
    path("imports/<int:job_id>/rejected.csv", views.import_rejected, name="import_rejected"),
    path("imports/<int:job_id>/import/", views.import_for_real, name="import_for_real"),
    path("imports/<int:job_id>/again/", views.import_again, name="import_again"),
]
