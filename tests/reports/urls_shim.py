from django.http import HttpResponse
from django.urls import NoReverseMatch, path, reverse

from accord.urls import urlpatterns as accord_urlpatterns


def _stub(request):
    return HttpResponse("")


def _missing(name: str) -> bool:
    try:
        reverse(name, urlconf="accord.urls")
    except NoReverseMatch:
        return True
    return False


urlpatterns = [
    *accord_urlpatterns,
    *[path(f"{name}-shim/", _stub, name=name) for name in ("login", "logout") if _missing(name)],
]
