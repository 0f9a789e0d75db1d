from django.urls import path

from accord.crm import views

urlpatterns = [
    path("", views.home, name="home"),
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/<int:contact_id>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:contact_id>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:contact_id>/stage/", views.contact_stage, name="contact_stage"),
    path("contacts/<int:contact_id>/touchpoints/", views.contact_log_touchpoint, name="contact_log_touchpoint"),
    path("accounts/", views.account_list, name="account_list"),
    path("accounts/<int:account_id>/", views.account_detail, name="account_detail"),
    path("opportunities/", views.opportunity_board, name="opportunity_board"),
    path("opportunities/list/", views.opportunity_list, name="opportunity_list"),
    path("opportunities/new/", views.opportunity_new, name="opportunity_create"),
    path("opportunities/<int:opportunity_id>/", views.opportunity_page, name="opportunity_edit"),
]
