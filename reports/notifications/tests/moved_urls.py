"""The portal's URLs under ``/moved/``: a URLconf a test puts in force."""

from django.urls import include, path

urlpatterns = [path("moved/", include("slaportal.urls"))]
