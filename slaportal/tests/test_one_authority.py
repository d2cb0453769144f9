"""Permissions are decided in agreements/rules.py alone: services ask it
through ``require`` (or ``can``), never by spelling out roles or teams
themselves, and never raise ``PermissionDenied`` on their own account. Read
from the source, so a new service that re-spells a rule fails here."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FIGURE_SERVICES = ("services.py", "measurements.py")
FRICTION_SERVICES = ("services.py", "knowledge.py")
# Every module that holds services (writes with rules or side effects).
SERVICE_MODULES = sorted(
    [
        *ROOT.glob("agreements/services/*.py"),
        *(ROOT / "agreements/figures" / name for name in FIGURE_SERVICES),
        *(ROOT / "agreements/friction" / name for name in FRICTION_SERVICES),
        ROOT / "reports/services.py",
        ROOT / "api/services.py",
    ]
)
# What a service may take from rules.py: the two questions, and helpers that
# read data rather than decide a permission.
ALLOWED_FROM_RULES = {"can", "require", "signed_partner_ids"}


def _imports_from_rules(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("rules"):
            names |= {alias.name for alias in node.names}
    return names


def _raises_permission_denied(tree: ast.Module) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name) and target.id == "PermissionDenied":
                lines.append(node.lineno)
    return lines


def test_the_service_modules_are_found():
    assert len(SERVICE_MODULES) >= 9
    assert all(path.exists() for path in SERVICE_MODULES)


def test_services_take_only_can_and_require_from_the_rules():
    offending = {
        str(path.relative_to(ROOT)): sorted(extra)
        for path in SERVICE_MODULES
        if (
            extra := _imports_from_rules(ast.parse(path.read_text()))
            - ALLOWED_FROM_RULES
        )
    }
    assert offending == {}


def test_no_service_raises_permission_denied_itself():
    offending = {
        str(path.relative_to(ROOT)): lines
        for path in SERVICE_MODULES
        if (lines := _raises_permission_denied(ast.parse(path.read_text())))
    }
    assert offending == {}


def test_the_check_catches_a_hand_written_rule():
    source = (
        "from ..rules import can, leads_team\n"
        "def agreement_retire(*, agreement, user):\n"
        "    if not leads_team(user, agreement.provider):\n"
        "        raise PermissionDenied('no')\n"
    )
    tree = ast.parse(source)
    assert _imports_from_rules(tree) - ALLOWED_FROM_RULES == {"leads_team"}
    assert _raises_permission_denied(tree) == [4]


def test_every_service_takes_the_user_typed_and_by_keyword():
    loose = []
    for path in SERVICE_MODULES:
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            positional = [a.arg for a in node.args.posonlyargs + node.args.args]
            by_keyword = {a.arg: a for a in node.args.kwonlyargs}
            if "user" in positional or (
                "user" in by_keyword and by_keyword["user"].annotation is None
            ):
                loose.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert loose == []


# What any module may take from rules.py: the questions, and helpers that
# read data or list actions rather than decide a permission themselves.
ASKING = {
    "can",
    "require",
    "signed_partner_ids",
    "unsigned_teams_user_leads",
    "calendar_team_ids",
    "agreement_actions",
    "agreement_actions_for",
    "friction_report_actions",
    "scorecard_team_ids",
    "digest_team_ids",
    "executives_q",
    "know_users",
    "standing",
}


def test_no_module_decides_a_role_outside_the_rules():
    """Views, API, selectors, emails: they ask ``can``; only rules.py and
    the models' visibility filters read roles (through access.py)."""
    deciding = {}
    for package in ("agreements", "reports", "api", "slaportal"):
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if {"tests", "migrations"} & set(relative.parts):
                continue
            if relative.parts[:2] == ("agreements", "rules.py"):
                continue
            names = set()
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom):
                    module = node.module or ""
                    if module.endswith("rules"):
                        names |= {a.name for a in node.names} - ASKING
                    elif module.endswith("access") and relative.parts[1] != "models":
                        names |= {a.name for a in node.names}
            if names:
                deciding[str(relative)] = sorted(names)
    assert deciding == {}
