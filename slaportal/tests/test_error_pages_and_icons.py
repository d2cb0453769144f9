"""The demo (DEBUG on) shows the portal's own error pages, with a way back,
as production does; browsers find the icons wherever they look."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agreements.tests.factories import AgreementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[True, False], ids=["debug", "production"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def test_an_unknown_address_shows_the_own_404_page(client, outsider, debug):
    client.force_login(outsider)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page
    assert "Back to my month" in page
    assert "URLconf" not in page  # not Django's technical page


def test_an_agreement_one_may_not_open_shows_the_own_404_page(client, outsider, debug):
    agreement = AgreementFactory()
    client.force_login(outsider)
    response = client.get(agreement.get_absolute_url())
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page and "Back to my month" in page
    assert "Raised by" not in page


def test_a_refusal_shows_the_own_403_page(client, rf, outsider, settings):
    from django.core.exceptions import PermissionDenied

    from slaportal.error_pages import OwnErrorPagesMiddleware

    settings.DEBUG = True
    request = rf.get("/")
    request.user = outsider
    middleware = OwnErrorPagesMiddleware(lambda r: None)
    response = middleware.process_exception(request, PermissionDenied())
    assert response.status_code == 403
    assert "Back to my month" in response.content.decode()


def test_an_error_shows_the_own_500_page_and_is_logged(rf, outsider, settings, caplog):
    from slaportal.error_pages import OwnErrorPagesMiddleware

    settings.DEBUG = True
    request = rf.get("/")
    request.user = outsider
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        response = OwnErrorPagesMiddleware(lambda r: None).process_exception(
            request, exc
        )
    assert response.status_code == 500
    assert "boom" not in response.content.decode()
    assert any("boom" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_technical_pages_come_back_when_asked(client, outsider, settings):
    settings.DEBUG = True
    settings.TECHNICAL_ERROR_PAGES = True
    client.force_login(outsider)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Back to my month" not in response.content.decode()


def test_a_missing_slash_is_still_redirected(client, outsider, settings):
    settings.DEBUG = True
    client.force_login(outsider)
    response = client.get("/agreements")
    assert response.status_code == 301
    assert response.url == "/agreements/"


def test_favicon_ico_is_found(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response.url.endswith(".ico")
    assert reverse("favicon") == "/favicon.ico"


def test_pages_link_the_icons_and_the_manifest(client, outsider):
    client.force_login(outsider)
    page = client.get(reverse("home")).content.decode()
    assert 'rel="apple-touch-icon"' in page
    assert 'rel="manifest"' in page
    assert "favicon.ico" in page
