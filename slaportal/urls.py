from django.contrib import admin
from django.urls import include, path

from . import views

admin.site.site_header = "slaportal administration"
admin.site.site_title = "slaportal admin"

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("agreements/", include("agreements.urls")),
    path("notifications/", include("reports.notifications.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
