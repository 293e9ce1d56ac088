from django.urls import path

from audit import views

urlpatterns = [
    path("audit/", views.workbench_page, name="audit_workbench"),
    path("audit/draw/", views.draw, name="audit_draw"),
    path("audit/tasks/<int:task_id>/", views.task_page, name="audit_task"),
    path("audit/audits/<int:audit_id>/overturn/", views.overturn, name="audit_overturn"),
    path("audit/audits/<int:audit_id>/appeal/", views.appeal, name="audit_appeal"),
    path("audit/mine/", views.mine, name="audit_mine"),
    path("audit/appeals/", views.appeals, name="audit_appeals"),
    path("audit/appeals/<int:appeal_id>/decide/", views.decide, name="audit_decide"),
    path("audit/plans/", views.plans, name="audit_plans"),
    path("audit/forms/<str:source>/", views.form_edit, name="audit_form_edit"),
]
