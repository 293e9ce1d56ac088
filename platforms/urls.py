from django.urls import path

from platforms import views

urlpatterns = [
    path("platforms/", views.platform_home, name="platforms"),
    path("platforms/new/", views.account_new, name="platform_account_new"),
    path("platforms/import/", views.score_import, name="platform_score_import"),
    path("platforms/alerts/", views.alert_strip, name="platform_alerts"),
    path("platforms/hq/", views.headquarters_page, name="platforms_hq"),
    path("platforms/<int:account_id>/", views.account_detail, name="platform_account"),
    path("platforms/<int:account_id>/edit/", views.account_edit, name="platform_account_edit"),
    path("platforms/<int:account_id>/compute/", views.compute_scores, name="platform_compute"),
    path("platforms/<int:account_id>/items/", views.add_item, name="platform_item_add"),
    path(
        "platforms/<int:account_id>/items/<int:item_id>/tick/",
        views.tick_item,
        name="platform_tick",
    ),
    path(
        "platforms/<int:account_id>/items/<int:item_id>/remove/",
        views.remove_item,
        name="platform_item_remove",
    ),
]
