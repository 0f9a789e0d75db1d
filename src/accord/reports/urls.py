from django.urls import path

from accord.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("kpis.csv", views.dashboard_csv, name="dashboard_csv"),
    path("kpi/<str:kpi>/", views.kpi_records, name="kpi_records"),
    path("roi/", views.roi, name="roi"),
    path("funnel/", views.funnel, name="funnel"),
    path("feedback/", views.feedback, name="feedback"),
    path("targets/", views.targets, name="targets"),
    path("refresh/", views.refresh, name="refresh"),
    path("digests/", views.digests, name="digests"),
    path("digests/<str:month>/", views.digest_detail, name="digest_detail"),
]
