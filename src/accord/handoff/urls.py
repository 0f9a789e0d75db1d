from django.urls import path

from accord.handoff import views

app_name = "handoff"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("board/", views.board, name="board"),
    path("report/", views.report, name="report"),
    path("policies/", views.policies, name="policies"),
    path("policies/new/", views.policy_edit, name="policy_new"),
    path("policies/<int:pk>/", views.policy_edit, name="policy_edit"),
    path("calendars/new/", views.calendar_edit, name="calendar_new"),
    path("calendars/<int:pk>/", views.calendar_edit, name="calendar_edit"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/attempt/", views.log_attempt, name="attempt"),
    path("<int:pk>/accept/", views.accept, name="accept"),
    path("<int:pk>/reject/", views.reject, name="reject"),
    path("<int:pk>/recycle/", views.recycle, name="recycle"),
    path("<int:pk>/reassign/", views.reassign, name="reassign"),
]
