"""The Function app as the host indexes it, its configuration files, and its worker."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import function_app
from agent_memory.durable.host import activities
from agent_memory.durable.host.app_settings import create_lease_container, function_app_settings
from agent_memory.durable.host.worker import get_worker, use_worker
from agent_memory.durable.messages import THREAD_STEPS, USER_STEPS
from agent_memory.durable.names import (
    ACTIVITIES,
    COUNTER_ENTITY,
    DEAD_LETTER_ENTITY,
    FORGET_FUNCTION,
    ORCHESTRATOR,
    SWEEPER_FUNCTION,
    TRIGGER_FUNCTION,
)
from agent_memory.durable.timing import FUNCTION_TIMEOUT
from tests.durable.replay import indexed
from tests.support.openai_server import FakeOpenAIServer
from tests.test_pipeline import answer, env_for

ROOT = Path(__file__).resolve().parent.parent


def bindings() -> dict[str, list[dict[str, Any]]]:
    return {
        f.get_function_name(): json.loads(f.get_function_json())["bindings"]
        for f in indexed(function_app.app)
    }


def test_the_app_indexes_trigger_orchestrator_entity_and_every_activity() -> None:
    found = {name: {b["type"] for b in bound} for name, bound in bindings().items()}
    assert found == {
        TRIGGER_FUNCTION: {"cosmosDBTrigger", "durableClient"},
        ORCHESTRATOR: {"orchestrationTrigger"},
        COUNTER_ENTITY: {"entityTrigger"},
        DEAD_LETTER_ENTITY: {"entityTrigger"},
        SWEEPER_FUNCTION: {"timerTrigger", "durableClient"},
        FORGET_FUNCTION: {"httpTrigger", "http", "durableClient"},
        **{activity: {"activityTrigger"} for activity in ACTIVITIES},
    }
    assert set(ACTIVITIES) == {*THREAD_STEPS, *USER_STEPS}


def test_the_change_feed_binding_names_container_leases_and_connection() -> None:
    (feed,) = [b for b in bindings()[TRIGGER_FUNCTION] if b["type"] == "cosmosDBTrigger"]
    assert feed == {
        "direction": "IN",
        "type": "cosmosDBTrigger",
        "name": "documents",
        "connection": "COSMOS_DB",
        "databaseName": "%COSMOS_DB_DATABASE_NAME%",
        "containerName": "memories_turns",
        "leaseContainerName": "leases",
        "createLeaseContainerIfNotExists": create_lease_container(),
    }
    (trigger_function,) = [
        f for f in indexed(function_app.app) if f.get_function_name() == TRIGGER_FUNCTION
    ]
    retry = trigger_function.get_settings_dict("retry_policy")
    assert retry is not None and retry["strategy"] == "exponential_backoff"


def test_the_lease_container_is_created_only_where_the_connection_may() -> None:
    assert create_lease_container({}) is False
    assert create_lease_container({"COSMOS_DB__accountEndpoint": "https://a"}) is False
    assert create_lease_container({"COSMOS_DB": "AccountEndpoint=https://a;AccountKey=k"})
    assert create_lease_container({"COSMOS_DB_CREATE_LEASE_CONTAINER": "true"})
    assert not create_lease_container({"COSMOS_DB": "x", "COSMOS_DB_CREATE_LEASE_CONTAINER": "no"})


def test_host_json_pins_the_bundle_and_configures_the_task_hub() -> None:
    host = json.loads((ROOT / "host.json").read_text())
    assert host["version"] == "2.0"
    assert host["extensionBundle"] == {
        "id": "Microsoft.Azure.Functions.ExtensionBundle",
        "version": "[4.*, 5.0.0)",
    }
    durable = host["extensions"]["durableTask"]
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]{2,44}", durable["hubName"])
    # the partition count is fixed when the task hub is created: the maximum, up front
    assert durable["storageProvider"]["partitionCount"] == 16
    assert 0 < durable["maxConcurrentActivityFunctions"] <= 8  # each one calls the model
    assert durable["maxConcurrentOrchestratorFunctions"] > 0
    assert durable["maxConcurrentEntityFunctions"] > 0
    assert durable["overridableExistingInstanceStates"] == "NonRunningStates"
    assert durable["tracing"]["traceInputsAndOutputs"] is False
    levels = host["logging"]["logLevel"]
    assert levels["default"] == "Warning"
    assert {levels[k] for k in levels if "DurableTask" in k} == {"Warning"}
    # claims outlive the worst case computed from this timeout
    hours, minutes, seconds = (int(p) for p in host["functionTimeout"].split(":"))
    assert timedelta(hours=hours, minutes=minutes, seconds=seconds) == FUNCTION_TIMEOUT


def test_the_settings_template_holds_every_setting_the_app_reads() -> None:
    template = json.loads((ROOT / "local.settings.template.json").read_text())
    values = template["Values"]
    assert template["IsEncrypted"] is False
    assert values["AzureWebJobsStorage"] == "UseDevelopmentStorage=true"
    assert values["FUNCTIONS_WORKER_RUNTIME"] == "python"
    assert values["MEMORY_PROCESSOR_OWNER"] == "durable"
    assert all(isinstance(v, str) for v in values.values())
    referenced = set(function_app_settings())
    text = json.dumps(bindings()) + (ROOT / "host.json").read_text()
    referenced |= set(re.findall(r"%(\w+)%", text))
    for bound in bindings().values():
        for binding in bound:
            if "connection" in binding:
                referenced.add(f"{binding['connection']}__accountEndpoint")
    assert sorted(referenced - set(values)) == []


def test_requirements_install_this_repository_and_funcignore_keeps_it() -> None:
    lines = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines == [".[functions]"]
    ignored = (ROOT / ".funcignore").read_text().split()
    assert {"tests/", ".venv/", "local.settings.json"} <= set(ignored)
    assert not {"sdk/", "pyproject.toml", "README.md", "function_app.py"} & set(ignored)


def test_the_durable_package_imports_without_azure_functions() -> None:
    code = (
        "import sys\n"
        "sys.modules['azure.functions'] = None\n"
        "sys.modules['azure.durable_functions'] = None\n"
        "import agent_memory.durable.entity, agent_memory.durable.host.trigger\n"
        "import agent_memory.durable.orchestration, agent_memory.durable.host.activities\n"
        "print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


async def test_a_worker_builds_its_store_and_model_once_from_app_settings(
    openai_server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    openai_server.script(answer)
    for name, value in env_for(openai_server, tmp_path / "worker.db").items():
        monkeypatch.setenv(name, value)
    use_worker(None)
    try:
        first = await get_worker()
        assert await get_worker() is first and first.ai is not None
        assert await activities.summarize_user({"user_id": "dana"}) == {
            "turns": 0,
            "batches": 0,
            "updated": False,
            "watermark": 0,
            "ungrounded": {},
            "forgotten": False,
        }
        with pytest.raises(ValueError, match="user_id"):
            await activities.reconcile({"user_id": "a/b"})
    finally:
        await first.close()
        use_worker(None)
