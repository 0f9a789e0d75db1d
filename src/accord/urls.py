from django.urls import include, path

from accord.api import api

# Each app owns its URL prefix; the prefixes are fixed here so apps never collide.
urlpatterns = [
    path("api/", api.urls),
    path("", include("accord.core.urls")),
    path("", include("accord.crm.urls")),
    path("campaigns/", include("accord.campaigns.urls")),
    path("", include("accord.integrations.urls")),
    path("scoring/", include("accord.scoring.urls")),
    path("duplicates/", include("accord.dedup.urls")),
    path("handoffs/", include("accord.handoff.urls")),
    path("reports/", include("accord.reports.urls")),
    path("outreach/", include("accord.outreach.urls")),
    path("knowledge/", include("accord.knowledge.urls")),
    path("notifications/", include("accord.notifications.urls")),
    path("team/", include("accord.teamwork.urls")),
]
