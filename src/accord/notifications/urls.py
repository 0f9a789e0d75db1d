from django.urls import path

from accord.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:notification_id>/read/", views.mark_read, name="read"),
    path("read-all/", views.mark_all_read, name="read_all"),
    path("webhooks/", views.webhooks, name="webhooks"),
    path("webhooks/<int:subscription_id>/delete/", views.webhook_delete, name="webhook_delete"),
    path("webhooks/deliveries/<int:delivery_id>/retry/", views.delivery_retry, name="delivery_retry"),
]
