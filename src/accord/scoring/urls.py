from django.urls import path

from accord.scoring import views

app_name = "scoring"

urlpatterns = [
    path("", views.model_list, name="list"),
    path("new/", views.model_create, name="create"),
    path("suggestions/", views.suggestions, name="suggestions"),
    path("<int:model_id>/", views.model_detail, name="detail"),
    path("<int:model_id>/edit/", views.model_edit, name="edit"),
    path("<int:model_id>/propose/", views.model_propose, name="propose"),
    path("<int:model_id>/withdraw/", views.model_withdraw, name="withdraw"),
    path("<int:model_id>/approve/", views.model_approve, name="approve"),
    path("<int:model_id>/comments/", views.model_comment, name="comment"),
    path("<int:model_id>/compare/", views.model_compare, name="compare"),
    path("contacts/<int:contact_id>/panel/", views.contact_panel, name="contact_panel"),
]
