from django.contrib import admin
from django.urls import include, path

from agreements.friction import urls as friction_urls
from api import pages as api_pages

from . import views

admin.site.site_header = "slaportal administration"
admin.site.site_title = "slaportal admin"

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("health/", views.health, name="health"),
    path("health/live/", views.health_live, name="health_live"),
    path("agreements/", include("agreements.urls")),
    path("figures/", include("agreements.figures.urls")),
    path("records/", include("agreements.records.urls")),
    path("calendars/", include("agreements.calendars.urls")),
    path("friction/", include(friction_urls.reports)),
    path("knowledge/", include(friction_urls.knowledge_base)),
    path("reports/", include("reports.urls")),
    path("api/", include("api.urls")),
    # Signed by each source's secret, not by a session: no CSRF, no login.
    path("hooks/", include("agreements.records.hooks")),
    path("accounts/api-tokens/", api_pages.token_list, name="api_tokens"),
    path(
        "accounts/api-tokens/<int:pk>/revoke/",
        api_pages.token_revoke,
        name="api_token_revoke",
    ),
    path("notifications/", include("reports.notifications.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]

handler500 = "slaportal.views.server_error"
