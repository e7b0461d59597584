"""Structural tests of the azd template: azure.yaml, infra/*.bicep, and names shared with the code.

No Bicep compiler installs from the package registries, so the Bicep is parsed with
tree-sitter-bicep and checked here: syntax, module wiring, the settings the Function app reads
against the app settings the functions module sets, and the ``.env`` outputs against the names
``Settings.from_env()`` reads. The names on the code side are derived from the code at test time.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent_memory.core.due import THRESHOLD_ENV, Thresholds
from agent_memory.core.models import (
    CONTAINERS,
    COUNTERS_CONTAINER,
    SUMMARIES_CONTAINER,
    TURNS_CONTAINER,
)
from agent_memory.durable import names as durable_names
from agent_memory.settings import ENV_NAMES, Settings
from agent_memory.stores.cosmos._sync.store import CosmosStore
from agent_memory.stores.cosmos.definitions import DEFINITIONS_FILE
from tests.support.bicep import BicepFile, NotLiteral, at, literal, properties, text

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"
MAIN = INFRA / "main.bicep"
MODULES = INFRA / "modules"
AZURE_YAML = ROOT / "azure.yaml"
FUNCTION_APP = ROOT / "function_app.py"
HOST_JSON = ROOT / "host.json"
LOCAL_SETTINGS_TEMPLATE = ROOT / "local.settings.template.json"
CONTAINERS_JSON = DEFINITIONS_FILE
AZD_SCHEMA = ROOT.parent / "shared" / "data" / "azure.yaml.schema.json"
DEPLOY_DOC = ROOT / "Docs" / "azure_deploy.md"

#: Every name ``Settings.from_env()`` reads (thresholds included).
SDK_NAMES = frozenset(ENV_NAMES.values()) | frozenset(THRESHOLD_ENV.values())

#: SDK settings the deployed Function app deliberately leaves unset, with the reason.
NOT_DEPLOYED = {
    "AGENT_MEMORY_PATH": "the embedded SQLite store; the app uses Cosmos DB",
    "AGENT_MEMORY_MAX_CONTENT_CHARS": "a limit of the writing client; the app never adds turns",
    "AI_FOUNDRY_API_KEY": "key auth is disabled on the AI Services account",
    "AI_FOUNDRY_API_VERSION": "the SDK's default API version",
    "OPENAI_BASE_URL": "the OpenAI-compatible alternative to AI Foundry",
    "OPENAI_API_KEY": "the OpenAI-compatible alternative to AI Foundry",
    "OPENAI_CHAT_MODEL": "the OpenAI-compatible alternative to AI Foundry",
    "OPENAI_EMBEDDING_MODEL": "the OpenAI-compatible alternative to AI Foundry",
    "OPENAI_EMBEDDING_BASE_URL": "the OpenAI-compatible alternative to AI Foundry",
    "COSMOS_DB_KEY": "key auth is disabled on the Cosmos DB account",
    "COSMOS_DB_VERIFY_TLS": "for the local emulator only",
    "AGENT_MEMORY_MODEL_TIMEOUT_SECONDS": "the SDK's default per-request model timeout",
    "AGENT_MEMORY_MODEL_MAX_RETRIES": "the SDK's default retry budget per model call",
}
#: Settings the Functions host reads that Flex Consumption provides another way.
FLEX_PROVIDED = {"FUNCTIONS_WORKER_RUNTIME": "functionAppConfig.runtime"}
#: The host's storage connection; like the bindings' connections it is identity-based.
HOST_STORAGE = "AzureWebJobsStorage"
#: App settings the host and its extensions read by convention rather than by name in code.
HOST_SETTING = re.compile(r"^(AzureWebJobsStorage__\w+|APPLICATIONINSIGHTS_\w+)$")
#: Identity-based connection settings: a connection named C needs these C__* settings.
IDENTITY_CONNECTION = ("accountEndpoint", "credential", "clientId")
#: Identity-based host storage (Durable Functions needs queues and tables too).
IDENTITY_STORAGE = (
    "AzureWebJobsStorage__blobServiceUri",
    "AzureWebJobsStorage__queueServiceUri",
    "AzureWebJobsStorage__tableServiceUri",
    "AzureWebJobsStorage__credential",
    "AzureWebJobsStorage__clientId",
)
#: Outputs for azd and operators rather than the SDK (the SDK must not read these).
AZD_OUTPUTS = frozenset({"AZURE_RESOURCE_GROUP", "AZURE_FUNCTION_APP_NAME"})
#: Environment names azd itself provides to main.parameters.json.
AZD_PROVIDED = frozenset(
    {"AZURE_ENV_NAME", "AZURE_LOCATION", "AZURE_PRINCIPAL_ID", "AZURE_PRINCIPAL_TYPE"}
)
#: Properties a container resource body accepts (Microsoft.DocumentDB 2025-10-15).
CONTAINER_PROPERTIES = frozenset(
    {
        "id",
        "partitionKey",
        "indexingPolicy",
        "defaultTtl",
        "uniqueKeyPolicy",
        "conflictResolutionPolicy",
        "computedProperties",
        "vectorEmbeddingPolicy",
        "fullTextPolicy",
        "analyticalStorageTtl",
        "clientEncryptionPolicy",
    }
)
ROLES = {
    "cosmosDataContributor": "00000000-0000-0000-0000-000000000002",
    "openAiUser": "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
    "storageBlobDataOwner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "storageQueueDataContributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "storageTableDataContributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
}


# -- parsed files ---------------------------------------------------------------------------


@cache
def bicep(path: Path) -> BicepFile:
    return BicepFile.parse(path)


def module(name: str) -> BicepFile:
    return bicep(MODULES / f"{name}.bicep")


def bicep_files() -> list[Path]:
    return sorted(INFRA.rglob("*.bicep"))


def resource(file: BicepFile, type_prefix: str) -> list[Any]:
    return [r for r in file.nested_resources() if r.target.split("@")[0] == type_prefix]


@cache
def app_settings() -> dict[str, Any]:
    """The functions module's app settings: name -> value node."""
    functions = module("functions")
    (config,) = resource(functions, "Microsoft.Web/sites/config")
    assert literal(at(config.body, "name")) == "appsettings"
    value = at(config.body, "properties")
    if value.type == "identifier":
        value = functions.variables[text(value)]
    assert value.type == "object", "app settings are an object literal"
    return properties(value)


def literal_settings() -> dict[str, str]:
    values = {}
    for name, node in app_settings().items():
        try:
            values[name] = literal(node)
        except NotLiteral:
            continue
    return values


@cache
def parameters_file() -> dict[str, str]:
    """main.parameters.json: parameter -> its value expression."""
    data = json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))
    return {name: entry["value"] for name, entry in data["parameters"].items()}


def env_reference(expression: str) -> str:
    match = re.fullmatch(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", expression)
    assert match, f"{expression!r} is not a plain ${{NAME}} reference"
    return match.group(1)


def module_params(symbol: str) -> dict[str, Any]:
    """The params main.bicep passes to module ``symbol``: name -> value node."""
    return properties(bicep(MAIN).modules[symbol].body, "params")


def container_ids() -> list[str]:
    data = json.loads(CONTAINERS_JSON.read_text(encoding="utf-8"))
    return [c["id"] for c in data["containers"]]


def cosmos_param_passed(name: str) -> Any:
    return literal(module_params("cosmos")[name])


def camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.capitalize() for part in rest)


# -- what the Function app reads, derived from the code -------------------------------------

_IMPORT_PROBE = r"""
import json, os, sys
from collections.abc import MutableMapping

ROOT = sys.argv[1]
reads = set()

class Recorder(MutableMapping):
    def __init__(self, inner):
        self.inner = inner
    def _note(self, key):
        frame = sys._getframe(2)
        while frame and frame.f_code.co_filename.endswith(("os.py", "_collections_abc.py")):
            frame = frame.f_back
        name = frame.f_code.co_filename if frame else ""
        if name.startswith(ROOT) and "site-packages" not in name:
            reads.add(key)
    def __getitem__(self, key):
        self._note(key)
        return self.inner[key]
    def get(self, key, default=None):
        self._note(key)
        return self.inner.get(key, default)
    def __contains__(self, key):
        self._note(key)
        return key in self.inner
    def __setitem__(self, key, value):
        self.inner[key] = value
    def __delitem__(self, key):
        del self.inner[key]
    def __iter__(self):
        return iter(self.inner)
    def __len__(self):
        return len(self.inner)

os.environ = Recorder(os.environ)
sys.path.insert(0, ROOT)
import function_app

functions = [json.loads(f.get_function_json()) for f in function_app.app.get_functions()]
print(json.dumps({"reads": sorted(reads), "functions": functions}))
"""


@cache
def function_app_probe(environment: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    """Import ``function_app`` in a fresh interpreter: its bindings and the settings it read."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "SYSTEMROOT", "TMPDIR")}
    env.update(environment)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "sdk")])
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE, str(ROOT)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    probe: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return probe


def binding_connections(functions: list[dict[str, Any]]) -> Iterator[str]:
    """Connection names of the bindings (``connection="COSMOS_DB"``)."""
    for function in functions:
        for binding in function["bindings"]:
            for key in ("connection", "connectionStringSetting"):
                if binding.get(key):
                    yield binding[key]


def binding_settings(functions: list[dict[str, Any]]) -> Iterator[str]:
    """Settings named by bindings: ``%NAME%`` expressions and identity-based connections."""
    for function in functions:
        for binding in function["bindings"]:
            for value in binding.values():
                if isinstance(value, str):
                    yield from re.findall(r"%([^%]+)%", value)
    for connection in binding_connections(functions):
        yield from (f"{connection}__{part}" for part in IDENTITY_CONNECTION)


def host_json_settings() -> Iterator[str]:
    if not HOST_JSON.exists():
        return
    yield from re.findall(r"%([^%\"]+)%", HOST_JSON.read_text(encoding="utf-8"))


def _module_name(path: Path) -> str:
    if path == FUNCTION_APP:
        return "function_app"
    return ".".join(path.relative_to(ROOT / "sdk").with_suffix("").parts)


def _environ_key(call: ast.AST) -> ast.expr | None:
    """The key expression of ``os.environ[k]``, ``os.environ.get(k)`` or ``os.getenv(k)``."""
    if isinstance(call, ast.Subscript) and ast.unparse(call.value) == "os.environ":
        return call.slice
    if isinstance(call, ast.Call) and call.args:
        target = ast.unparse(call.func)
        if target in ("os.environ.get", "os.getenv", "os.environ.setdefault"):
            return call.args[0]
    return None


@cache
def source_reads() -> frozenset[str]:
    """Environment names read directly (``os.environ``/``os.getenv``) by the app and the SDK."""
    paths = [FUNCTION_APP, *sorted((ROOT / "sdk" / "agent_memory").rglob("*.py"))]
    found: set[str] = set()
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            key = _environ_key(node)
            if key is None:
                continue
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                found.add(key.value)
            elif isinstance(key, ast.Name):
                value = getattr(importlib.import_module(_module_name(path)), key.id)
                assert isinstance(value, str), f"{path.name}: {key.id} is not a name"
                found.add(value)
            else:
                raise AssertionError(f"{path.name}: cannot resolve {ast.unparse(key)}")
    return frozenset(found)


@cache
def app_reads() -> frozenset[str]:
    """Every setting the deployed Function app reads: bindings, host.json, code, SDK settings."""
    probe = function_app_probe()
    return frozenset(
        {
            *binding_settings(probe["functions"]),
            *probe["reads"],
            *host_json_settings(),
            *source_reads(),
            *SDK_NAMES,
        }
    )


# -- files parse, azure.yaml is valid --------------------------------------------------------


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: str(p.relative_to(INFRA)))
def test_bicep_file_parses_without_errors(path: Path) -> None:
    assert bicep(path).errors() == []


def test_azure_yaml_matches_the_azd_schema() -> None:
    if not AZD_SCHEMA.exists():
        pytest.skip(f"azd's azure.yaml schema is not at {AZD_SCHEMA}")
    from jsonschema import Draft201909Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT201909

    def retrieve(uri: str) -> Resource:
        return Resource.from_contents({}, default_specification=DRAFT201909)

    schema = json.loads(AZD_SCHEMA.read_text(encoding="utf-8"))
    validator = Draft201909Validator(schema, registry=Registry(retrieve=retrieve))
    document = yaml.safe_load(AZURE_YAML.read_text(encoding="utf-8"))
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert [f"{list(e.absolute_path)}: {e.message}" for e in errors] == []


def test_azure_yaml_deploys_the_function_app_at_the_root() -> None:
    document = yaml.safe_load(AZURE_YAML.read_text(encoding="utf-8"))
    assert document["infra"] == {"provider": "bicep", "path": "infra", "module": "main"}
    ((name, service),) = document["services"].items()
    assert service == {"project": ".", "language": "python", "host": "function"}
    assert (ROOT / service["project"] / "function_app.py").exists()
    (site,) = resource(module("functions"), "Microsoft.Web/sites")
    assert "'azd-service-name': serviceName" in text(at(site.body, "tags"))
    assert literal(bicep(MAIN).variables["serviceName"]) == name


# -- module wiring (what a compiler would check) ----------------------------------------------


def test_main_wires_modules_to_declared_params_and_outputs() -> None:
    main = bicep(MAIN)
    assert main.target_scope == "subscription"
    for symbol, declaration in main.modules.items():
        path = INFRA / declaration.target
        assert path.exists(), f"module {symbol}: {declaration.target} is missing"
        child = bicep(path)
        passed = set(properties(declaration.body, "params"))
        assert passed <= set(child.params), f"{symbol}: unknown params {passed - set(child.params)}"
        required = {name for name, p in child.params.items() if p.default is None}
        assert required <= passed, f"{symbol}: missing params {required - passed}"
    for match in re.finditer(r"\b(\w+)\.outputs\.(\w+)", MAIN.read_text(encoding="utf-8")):
        symbol, output = match.groups()
        child = bicep(INFRA / main.modules[symbol].target)
        assert output in child.outputs, f"{symbol} has no output {output}"


def test_parameters_file_matches_main_bicep() -> None:
    main = bicep(MAIN)
    parameters = parameters_file()
    assert set(parameters) <= set(main.params)
    required = {name for name, p in main.params.items() if p.default is None}
    assert required <= set(parameters)
    documented = DEPLOY_DOC.read_text(encoding="utf-8")
    for name, expression in parameters.items():
        variable = env_reference(expression)
        if variable in SDK_NAMES:
            assert variable in main.outputs, f"{variable} feeds {name} but is not an output"
        if variable not in AZD_PROVIDED:
            assert f"`{variable}`" in documented, f"{variable} is not in {DEPLOY_DOC.name}"


def test_deploy_function_app_false_provisions_only_what_the_sdk_needs() -> None:
    main = bicep(MAIN)
    assert env_reference(parameters_file()["deployFunctionApp"]) == "DEPLOY_FUNCTION_APP"
    assert main.params["deployFunctionApp"].default_value() is True
    conditions = {symbol: m.condition for symbol, m in main.modules.items()}
    assert conditions == {
        "identity": "(deployFunctionApp)",
        "cosmos": None,
        "ai": None,
        "functions": "(deployFunctionApp)",
        "rbac": None,
    }
    owner = text(main.outputs["MEMORY_PROCESSOR_OWNER"].value)
    assert owner == "deployFunctionApp ? 'durable' : 'inprocess'"
    assert text(module_params("rbac")["appDeployed"]) == "deployFunctionApp"
    assert text(module_params("cosmos")["createLeaseContainer"]) == "deployFunctionApp"


def test_region_allow_list_and_quota_metadata_name_the_default_models() -> None:
    main = bicep(MAIN)
    location = main.params["location"]
    regions = location.decorator_value("allowed")
    assert regions and len(regions) == len(set(regions))
    assert all(re.fullmatch(r"[a-z0-9]+", region) for region in regions)
    azd = location.decorator_value("metadata")["azd"]
    assert azd["type"] == "location"
    sku = main.params["modelSkuName"].default_value()
    for model, capacity in (
        ("chatModelName", "chatCapacity"),
        ("embeddingModelName", "embeddingCapacity"),
    ):
        model_name = main.params[model].default_value()
        usage = f"OpenAI.{sku}.{model_name},{main.params[capacity].default_value()}"
        assert usage in azd["usageName"]


def test_names_come_from_a_unique_token() -> None:
    main = bicep(MAIN)
    assert "uniqueString(subscription().id, environmentName, location)" in text(
        main.variables["resourceToken"]
    )
    names = main.variables["names"]
    for key, value in properties(names).items():
        if key != "resourceGroup":
            assert "${resourceToken}" in text(value), key


# -- the Function app's settings come from the functions module -------------------------------


def test_every_setting_the_function_app_reads_is_set_by_the_functions_module() -> None:
    settings = set(app_settings())
    reads = app_reads()
    stale = set(NOT_DEPLOYED) - reads
    assert not stale, f"NOT_DEPLOYED names no code reads any more: {stale}"
    connections = set(binding_connections(function_app_probe()["functions"])) | {HOST_STORAGE}
    required = reads - set(NOT_DEPLOYED) - set(FLEX_PROVIDED) - connections
    missing = required - settings
    assert not missing, f"read by the app but not set by infra/modules/functions.bicep: {missing}"
    assert not set(NOT_DEPLOYED) & settings
    assert not set(FLEX_PROVIDED) & settings, "Flex Consumption rejects these as app settings"


def test_every_app_setting_is_read_by_the_app_or_the_host() -> None:
    unused = {name for name in app_settings() if name not in app_reads()}
    assert {name for name in unused if not HOST_SETTING.match(name)} == set()


def test_connections_and_host_storage_are_identity_based() -> None:
    values = literal_settings()
    settings = app_settings()
    assert set(IDENTITY_STORAGE) <= set(settings)
    connections = set(binding_connections(function_app_probe()["functions"]))
    assert connections, "the change-feed trigger names a connection"
    for connection in connections | {HOST_STORAGE}:
        assert connection not in settings, f"{connection} would be a key-based connection string"
        assert values[f"{connection}__credential"] == "managedidentity"
        assert text(settings[f"{connection}__clientId"]) == "identityClientId"
    assert text(settings["AZURE_CLIENT_ID"]) == "identityClientId"


def test_app_setting_values_are_valid_settings() -> None:
    values = literal_settings()
    assert all(isinstance(value, str) for value in values.values()), "app settings are strings"
    settings = Settings.from_env(values)
    assert settings.processor_owner == "durable"
    assert settings.embeddings == "azure"
    assert values[durable_names.CREATE_LEASES_SETTING] == "false"
    probe = function_app_probe(tuple(sorted(values.items())))
    (trigger,) = [
        binding
        for function in probe["functions"]
        for binding in function["bindings"]
        if binding["type"] == "cosmosDBTrigger"
    ]
    assert trigger["createLeaseContainerIfNotExists"] is False
    assert trigger["leaseContainerName"] == cosmos_param_passed("leaseContainerName")
    assert trigger["containerName"] in container_ids()


def test_application_insights_uses_entra_id() -> None:
    functions = module("functions")
    (component,) = resource(functions, "Microsoft.Insights/components")
    assert literal(at(component.body, "properties", "DisableLocalAuth")) is True
    auth = text(app_settings()["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"])
    assert auth == "'ClientId=${identityClientId};Authorization=AAD'"


def test_function_app_is_flex_consumption_python_311_with_keyless_storage() -> None:
    functions = module("functions")
    (plan,) = resource(functions, "Microsoft.Web/serverfarms")
    assert literal(at(plan.body, "sku")) == {"name": "FC1", "tier": "FlexConsumption"}
    assert literal(at(plan.body, "properties", "reserved")) is True
    (site,) = resource(functions, "Microsoft.Web/sites")
    config = at(site.body, "properties", "functionAppConfig")
    assert literal(at(config, "runtime")) == {"name": "python", "version": "3.11"}
    auth = at(config, "deployment", "storage", "authentication", "type")
    assert literal(auth) == "UserAssignedIdentity"
    at(config, "scaleAndConcurrency")
    (storage,) = resource(functions, "Microsoft.Storage/storageAccounts")
    props = at(storage.body, "properties")
    assert literal(at(props, "allowSharedKeyAccess")) is False


# -- .env outputs are names from_env() reads ----------------------------------------------------


def test_env_outputs_are_names_from_env_reads() -> None:
    outputs = set(bicep(MAIN).outputs)
    assert outputs - SDK_NAMES <= AZD_OUTPUTS
    assert not AZD_OUTPUTS & SDK_NAMES


def test_env_outputs_give_the_local_sdk_the_apps_configuration() -> None:
    outputs = set(bicep(MAIN).outputs)
    shared = (set(app_settings()) & SDK_NAMES) - {"AZURE_CLIENT_ID"}
    assert shared - outputs == set(), "the app has these SDK settings but the .env does not"


def test_defaults_agree_with_the_sdk() -> None:
    main = bicep(MAIN)
    defaults = Thresholds()
    parameters = parameters_file()
    for field, variable in THRESHOLD_ENV.items():
        param = main.params[camel(field)]
        assert param.default_value() == getattr(defaults, field), field
        assert text(main.outputs[variable].value) == camel(field)
        assert env_reference(parameters[camel(field)]) == variable
    settings = Settings()
    # No chat deployment is guessed: the .env output and the app setting name azd's.
    assert settings.chat_deployment is None
    assert "AI_FOUNDRY_CHAT_DEPLOYMENT_NAME" in main.outputs
    assert "AI_FOUNDRY_CHAT_DEPLOYMENT_NAME" in app_settings()
    assert main.params["embeddingModelName"].default_value() == settings.embedding_deployment
    file = json.loads(CONTAINERS_JSON.read_text(encoding="utf-8"))
    assert file["database"] == settings.cosmos_database
    assert file["parameters"]["embeddingDimensions"] == settings.embedding_dimensions
    assert file["parameters"]["vectorIndexType"] == settings.cosmos_vector_index
    assert file["parameters"]["turnsTtlSeconds"] == settings.cosmos_turns_ttl
    assert file["parameters"]["countersTtlSeconds"] == settings.cosmos_counters_ttl


# -- Cosmos DB, models, roles -------------------------------------------------------------------


def test_cosmos_creates_every_container_of_containers_json() -> None:
    cosmos = module("cosmos")
    (args,) = cosmos.calls("loadJsonContent")
    assert (MODULES / literal(args.named_children[0])).resolve() == CONTAINERS_JSON
    (loaded,) = [name for name, node in cosmos.variables.items() if "loadJsonContent" in text(node)]
    (containers,) = [r for r in cosmos.resources.values() if r.iterable]
    assert containers.iterable == f"{loaded}.containers"
    assert text(at(containers.body, "name")) == "c.id"
    source = cosmos.path.read_text(encoding="utf-8")
    assert not [i for i in container_ids() if f"'{i}'" in source], "ids come from the JSON"
    data = json.loads(CONTAINERS_JSON.read_text(encoding="utf-8"))
    for container in data["containers"]:
        assert set(container) <= CONTAINER_PROPERTIES, container["id"]
    assert set(CONTAINERS) <= set(container_ids())
    (summaries,) = [c for c in data["containers"] if c["id"] == SUMMARIES_CONTAINER]
    assert summaries["vectorEmbeddingPolicy"]["vectorEmbeddings"]
    assert summaries["fullTextPolicy"]["fullTextPaths"]
    assert cosmos_param_passed("turnsContainerName") == TURNS_CONTAINER
    assert cosmos_param_passed("leaseContainerName") == durable_names.LEASE_CONTAINER
    assert durable_names.MONITORED_CONTAINER in container_ids()


def test_cosmos_account_is_keyless_with_vector_and_full_text_search() -> None:
    cosmos = module("cosmos")
    (account,) = resource(cosmos, "Microsoft.DocumentDB/databaseAccounts")
    props = at(account.body, "properties")
    assert literal(at(props, "disableLocalAuth")) is True
    capabilities = text(cosmos.variables["capabilities"])
    for capability in ("EnableNoSQLVectorSearch", "EnableNoSQLFullTextSearch", "EnableServerless"):
        assert f"'{capability}'" in capabilities
    assert cosmos.params["capacityMode"].default_value() == "serverless"
    assert bicep(MAIN).params["cosmosCapacityMode"].default_value() == "serverless"


def test_ai_services_account_is_keyless_with_two_deployments() -> None:
    ai = module("ai")
    (account,) = resource(ai, "Microsoft.CognitiveServices/accounts")
    assert literal(at(account.body, "kind")) == "AIServices"
    props = at(account.body, "properties")
    assert literal(at(props, "disableLocalAuth")) is True
    assert text(at(props, "customSubDomainName")) == "name"
    deployments = resource(ai, "Microsoft.CognitiveServices/accounts/deployments")
    assert len(deployments) == 2


def test_role_assignments_cover_the_identity_and_the_deploying_user() -> None:
    rbac = module("rbac")
    assert literal(rbac.variables["roles"]).items() >= ROLES.items()
    sql = resource(rbac, "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments")
    assert {text(at(r.body, "properties", "principalId")) for r in sql} == {
        "identityPrincipalId",
        "userPrincipalId",
    }
    assignments = resource(rbac, "Microsoft.Authorization/roleAssignments")
    grants = {
        (text(at(r.body, "scope")), text(at(r.body, "properties", "principalId")))
        for r in assignments
    }
    assert ("ai", "identityPrincipalId") in grants
    assert ("ai", "userPrincipalId") in grants
    assert ("storage", "identityPrincipalId") in grants
    storage_roles = text(rbac.variables["storageRoles"])
    for role in (
        "storageBlobDataOwner",
        "storageQueueDataContributor",
        "storageTableDataContributor",
    ):
        assert f"roles.{role}" in storage_roles


def test_local_settings_template_names_are_deployed_or_explained() -> None:
    if not LOCAL_SETTINGS_TEMPLATE.exists():
        pytest.skip("local.settings.template.json is not in the repository")
    values = json.loads(LOCAL_SETTINGS_TEMPLATE.read_text(encoding="utf-8"))["Values"]
    connections = set(binding_connections(function_app_probe()["functions"])) | {HOST_STORAGE}
    unexplained = set(values) - set(app_settings()) - set(NOT_DEPLOYED) - set(FLEX_PROVIDED)
    unexplained -= connections
    assert {name for name in unexplained if not HOST_SETTING.match(name)} == set()


# -- provisioned throughput, the chat model, TTLs, the post-provision hook ----------------------


def test_provisioned_mode_gives_every_container_dedicated_throughput() -> None:
    """Vector search is not supported on shared-throughput databases: in provisioned mode the
    database has no throughput and every container (each vector-indexed one included) its own."""
    cosmos = module("cosmos")
    (database,) = resource(cosmos, "Microsoft.DocumentDB/databaseAccounts/sqlDatabases")
    assert text(at(database.body, "properties", "options")) == "{}"
    options = " ".join(text(cosmos.variables["containerOptions"]).split())
    assert options == (
        "serverless ? {} : { autoscaleSettings: { maxThroughput: autoscaleMaxThroughput } }"
    )
    containers = resource(cosmos, "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers")
    assert len(containers) == 2  # containers.json (a loop) and the lease container
    for container in containers:
        assert text(at(container.body, "properties", "options")) == "containerOptions"
    (looped,) = [c for c in containers if c.iterable]
    data = json.loads(CONTAINERS_JSON.read_text(encoding="utf-8"))
    vector_indexed = [c["id"] for c in data["containers"] if c.get("vectorEmbeddingPolicy")]
    assert len(vector_indexed) == 3 and looped.iterable.endswith(".containers")
    main = bicep(MAIN)
    assert text(module_params("cosmos")["autoscaleMaxThroughput"]) == "cosmosAutoscaleMaxThroughput"
    assert "each container" in main.params["cosmosAutoscaleMaxThroughput"].decorator_value(
        "description"
    )


def test_the_default_chat_model_is_a_current_ga_version_with_matching_region_and_quota() -> None:
    main = bicep(MAIN)
    assert main.params["chatModelName"].default_value() == "gpt-4.1-mini"
    assert main.params["chatModelVersion"].default_value() == "2025-04-14"
    assert main.params["modelSkuName"].decorator_value("allowed") == ["GlobalStandard"]
    location = main.params["location"]
    assert "gpt-4.1-mini (2025-04-14)" in location.decorator_value("description")
    usage = location.decorator_value("metadata")["azd"]["usageName"]
    assert usage == [
        "OpenAI.GlobalStandard.gpt-4.1-mini,30",
        "OpenAI.GlobalStandard.text-embedding-3-large,30",
    ]
    assert "gpt-4o-mini" not in MAIN.read_text(encoding="utf-8")
    assert "gpt-4.1-mini" in DEPLOY_DOC.read_text(encoding="utf-8")


def test_turns_and_counters_ttls_are_optional_parameters() -> None:
    main = bicep(MAIN)
    for param, output in (
        ("turnsTtlSeconds", "COSMOS_DB_TURNS_TTL_SECONDS"),
        ("countersTtlSeconds", "COSMOS_DB_COUNTERS_TTL_SECONDS"),
    ):
        assert main.params[param].default_value() == 0
        assert env_reference(parameters_file()[param]) == output
        assert output in main.outputs and output in app_settings()
    assert cosmos_param_passed("countersContainerName") == COUNTERS_CONTAINER
    cosmos = module("cosmos")
    (containers,) = [
        r
        for r in resource(cosmos, "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers")
        if r.iterable
    ]
    body = " ".join(text(at(containers.body, "properties", "resource")).split())
    for name, ttl in (("turnsContainerName", "turnsTtl"), ("countersContainerName", "countersTtl")):
        assert f"c.id == {name} && {ttl} != null ? {{ defaultTtl: {ttl} }} : {{}}" in body


def test_postprovision_hook_waits_for_role_assignments() -> None:
    hooks = yaml.safe_load(AZURE_YAML.read_text(encoding="utf-8"))["hooks"]
    for platform in ("posix", "windows"):
        hook = hooks["postprovision"][platform]
        script = hook["run"].split()[-1]
        assert script == "scripts/wait_for_roles.py" and (ROOT / script).is_file()


class StaticToken:
    """A credential handing out one fixed bearer token (the fake model server ignores it)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("token", 2**31)


def test_the_role_hook_passes_once_cosmos_answers_and_gives_up_on_time(
    cosmos_server: Any, openai_server: Any
) -> None:
    from scripts.wait_for_roles import cosmos_check, models_check, wait_for
    from tests.support.cosmos_server import unique_database

    database = unique_database()
    with CosmosStore(cosmos_server.endpoint, key=cosmos_server.key, database=database) as store:
        store.ensure_embedding_model("m", 1536)  # the item the hook's query finds
    ready = cosmos_check(cosmos_server.endpoint, database, cosmos_server.key)
    assert wait_for({"Cosmos DB": ready}, timeout=5, interval=0.01) == []
    # this model server has no model list: it never answers, like a role not yet effective
    never = models_check(openai_server.azure_endpoint, StaticToken(), "2024-10-21")
    waited: list[float] = []
    left = wait_for(
        {"Cosmos DB": ready, "AI Services": never},
        timeout=1.5,
        interval=0.5,
        sleep=lambda s: waited.append(s) or time.sleep(s),
    )
    assert left == ["AI Services"] and waited and all(0 < w <= 0.5 for w in waited)


def test_the_role_hook_waits_for_nothing_without_a_principal() -> None:
    from scripts.wait_for_roles import main

    assert main([], {"AZURE_PRINCIPAL_ID": " "}) == 0
