from django.urls import path

from accord.integrations import views

urlpatterns = [
    path("import/", views.import_start, name="import_start"),
    path("import/<int:pk>/", views.import_detail, name="import_detail"),
    path("import/<int:pk>/rejects.csv", views.import_rejects_csv, name="import_rejects"),
    path("contacts/export.csv", views.contact_export, name="contact_export"),
]
