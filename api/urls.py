"""The API's routes (each kind of figure in the registry has its own). A new
resource is one ``router.register`` line, plus its rows in the permission
matrix (``api/tests/test_permission_matrix.py``), which fails until they are
there."""

from __future__ import annotations

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import SimpleRouter

from agreements.api.views import AgreementViewSet, TeamViewSet
from agreements.figures.api import figure_routes
from agreements.figures.measurement_api import MeasurementViewSet
from agreements.friction.api import FrictionReportViewSet
from agreements.friction.knowledge_api import PainPointViewSet
from agreements.records.api import RecordSourceViewSet
from reports.api import BreachViewSet, MeView, ScorecardView

from .views import not_found

app_name = "api"

router = SimpleRouter()
router.register("teams", TeamViewSet, basename="team")
router.register("agreements", AgreementViewSet, basename="agreement")
for prefix, viewset, basename in figure_routes():
    router.register(prefix, viewset, basename=basename)
router.register("measurements", MeasurementViewSet, basename="measurement")
router.register("friction-reports", FrictionReportViewSet, basename="friction-report")
router.register("pain-points", PainPointViewSet, basename="pain-point")
router.register("record-sources", RecordSourceViewSet, basename="record-source")
router.register("breaches", BreachViewSet, basename="breach")

v1 = [
    path("me/", MeView.as_view(), name="me"),
    path("scorecards/", ScorecardView.as_view(), name="scorecard"),
    *router.urls,
]

urlpatterns = [
    path("v1/", include((v1, "v1"))),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file, so the
    # page needs no inline script under the Content-Security-Policy.
    path(
        "docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"
    ),
    # ReDoc styles itself with <style> elements it writes at run time, parses
    # the schema in a worker, and always shows its maker's logo from their
    # server (hidden again when that fails offline): its page alone allows
    # these three.
    path(
        "redoc/",
        csp_replace(
            {
                "style-src": [SELF, UNSAFE_INLINE],
                "worker-src": [SELF, "blob:"],
                "img-src": [SELF, "data:", "https://cdn.redoc.ly"],
            }
        )(SpectacularRedocView.as_view(url_name="api:schema")),
        name="redoc",
    ),
    # Last: whatever else is asked under /api/.
    re_path(r"^(?P<path>[\s\S]*)$", not_found, name="not_found"),
]
