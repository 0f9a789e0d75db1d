from django.urls import path

from accord.knowledge import views

urlpatterns = [
    path("", views.article_list, name="knowledge_list"),
    path("new/", views.article_edit, name="knowledge_new"),
    path("<int:article_id>/", views.article_detail, name="knowledge_article"),
    path("<int:article_id>/edit/", views.article_edit, name="knowledge_edit"),
    path("<int:article_id>/diff/<int:old>/<int:new>/", views.article_diff, name="knowledge_diff"),
    path("<int:article_id>/<str:action>/", views.article_action, name="knowledge_action"),
    path("files/<int:file_id>/", views.file_download, name="knowledge_file"),
]
