"""The Function app as the Functions Python worker indexes it before the host starts anything."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from agent_memory.durable.names import ACTIVITIES, COUNTER_ENTITY, ORCHESTRATOR, TRIGGER_FUNCTION

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("azure_functions_runtime", reason="pip install azure-functions-runtime")


def worker_index(app_dir: Path) -> list[dict[str, Any]]:
    """Run the worker's indexing in a fresh interpreter (the worker imports the app once)."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.durable.worker_index", str(app_dir)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_the_worker_indexes_every_function_of_the_app() -> None:
    results = worker_index(ROOT)
    assert [r for r in results if not r["ok"]] == []
    assert {r["name"] for r in results} >= {
        TRIGGER_FUNCTION,
        ORCHESTRATOR,
        COUNTER_ENTITY,
        *ACTIVITIES,
    }


def test_the_worker_rejects_a_pep_585_activity_annotation(tmp_path: Path) -> None:
    (tmp_path / "function_app.py").write_text(
        textwrap.dedent(
            """
            from typing import Any
            import azure.durable_functions as df

            app = df.DFApp()

            @app.activity_trigger(input_name="request")
            def bad(request: dict[str, Any]) -> dict[str, Any]:
                return request

            @app.activity_trigger(input_name="request")
            def good(request: dict) -> dict:
                return request
            """
        )
    )
    results = {r["name"]: r for r in worker_index(tmp_path)}
    assert results["good"]["ok"]
    assert not results["bad"]["ok"]
    assert "invalid non-type annotation" in results["bad"]["error"]
