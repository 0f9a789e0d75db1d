from django.urls import include, path

from accord.api import api

urlpatterns = [
    path("api/", api.urls),
    path("", include("accord.core.urls")),
    path("", include("accord.crm.urls")),
    path("campaigns/", include("accord.campaigns.urls")),
    path("", include("accord.integrations.urls")),
]
