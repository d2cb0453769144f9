"""No import cycles among the project's modules (.ci/import_cycles.py, which
CI and ``make lint`` run too)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "import_cycles.py"


def _checker():
    spec = importlib.util.spec_from_file_location("import_cycles", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_project_has_no_import_cycle(capsys):
    assert _checker().main() == 0
    assert "0 import cycles" in capsys.readouterr().out


def test_the_checker_finds_a_cycle_and_leaves_a_chain_alone():
    cycles = _checker().cycles
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_an_import_inside_a_function_counts(tmp_path):
    checker = _checker()
    path = tmp_path / "ledger.py"
    path.write_text("def send():\n    from reports.notifications import jobs\n")
    modules = {"reports.notifications.ledger": path, "reports.notifications.jobs": path}
    assert checker.imports_of("reports.notifications.ledger", path, modules) == {
        "reports.notifications.jobs"
    }
