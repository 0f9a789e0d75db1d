from django.urls import path

from accord.outreach import views

urlpatterns = [
    path("", views.outreach_calendar, name="outreach_calendar"),
    path("planned/new/", views.planned_outreach_new, name="outreach_planned_new"),
    path("segments/", views.segment_list, name="outreach_segments"),
    path("segments/new/", views.segment_edit, name="outreach_segment_new"),
    path("segments/<int:segment_id>/", views.segment_detail, name="outreach_segment"),
    path("segments/<int:segment_id>/edit/", views.segment_edit, name="outreach_segment_edit"),
    path("templates/", views.template_list, name="outreach_templates"),
    path("templates/new/", views.template_edit, name="outreach_template_new"),
    path("templates/<int:template_id>/", views.template_edit, name="outreach_template_edit"),
    path("sends/", views.send_list, name="outreach_sends"),
    path("sends/new/", views.send_new, name="outreach_send_new"),
    path("sends/<int:send_id>/", views.send_detail, name="outreach_send"),
    path("sends/<int:send_id>/schedule/", views.send_schedule, name="outreach_send_schedule"),
    path("sends/<int:send_id>/cancel/", views.send_cancel, name="outreach_send_cancel"),
    path("policy/", views.policy_edit, name="outreach_policy"),
    path("contacts/<int:contact_id>/consent/", views.contact_consent, name="outreach_contact_consent"),
    # Public: reached from customers' mailboxes without a login; the signed token is the key.
    path("unsubscribe/<str:token>/", views.unsubscribe, name="outreach_unsubscribe"),
    path("t/o/<str:token>.gif", views.track_open, name="outreach_track_open"),
    path("t/c/<str:token>/", views.track_click, name="outreach_track_click"),
]
