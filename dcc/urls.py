from django.urls import path

from dcc.api import api

urlpatterns = [
    path("api/v1/", api.urls),
]
