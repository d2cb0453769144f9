"""Log in and out in a real Chromium, as a person would."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_log_in_see_home_and_log_out(page, live_server, sales_manager, screenshot):
    log_in(page, live_server, "sales-manager", PASSWORD)
    expect(
        page.get_by_role("heading", name=f"Hello, {sales_manager.first_name}")
    ).to_be_visible()
    teams = page.get_by_test_id("my-teams")
    expect(teams).to_contain_text("Sales")
    expect(teams).to_contain_text("Manager")
    screenshot("home")

    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="You have been logged out")).to_be_visible()
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")


def test_a_bad_password_shows_an_error(page, live_server, sales_manager, screenshot):
    log_in(page, live_server, "sales-manager", "not-my-password")
    expect(page.get_by_test_id("form-errors")).to_contain_text(
        "Please enter a correct username and password"
    )
    screenshot("login-error")
