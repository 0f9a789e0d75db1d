"""The project's URLs, plus stand-ins for 'login' and 'logout' for as long as the sign-in pages are not on main
(base.html links to it)."""

from django.http import HttpResponse
from django.urls import path

from accord.urls import urlpatterns as project_urls

urlpatterns = [
    *project_urls,
    path("__test_logout__/", lambda request: HttpResponse(), name="logout"),
    path("__test_login__/", lambda request: HttpResponse("sign in"), name="login"),
]
