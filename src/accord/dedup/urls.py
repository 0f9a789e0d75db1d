from django.urls import path

from accord.dedup import views

app_name = "dedup"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("scan/", views.scan, name="scan"),
    path("<int:suggestion_id>/", views.review, name="review"),
    path("<int:suggestion_id>/merge/", views.merge, name="merge"),
    path("<int:suggestion_id>/distinct/", views.distinct, name="distinct"),
    path("merges/", views.merges, name="merges"),
    path("merges/<int:merge_id>/", views.merge_detail, name="merge_detail"),
    path("merges/<int:merge_id>/undo/", views.undo, name="undo"),
]
