from django.urls import path

from accord.teamwork import views

urlpatterns = [
    path("", views.directory, name="team_directory"),
    path("me/", views.my_profile, name="team_me"),
    path("comments/", views.comment_new, name="team_comment_new"),
    path("requests/", views.request_list, name="team_requests"),
    path("requests/new/", views.request_new, name="team_request_new"),
    path("requests/<int:request_id>/", views.request_detail, name="team_request"),
    path("goals/", views.goals, name="team_goals"),
    path("meetings/", views.meetings, name="team_meetings"),
    path("meetings/<int:meeting_id>/", views.meeting_detail, name="team_meeting"),
]
