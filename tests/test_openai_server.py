"""Tests for the fake OpenAI-compatible server, driven by the real openai client."""

from __future__ import annotations

import json
import math
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import openai
import pydantic
import pytest
from openai import AsyncAzureOpenAI, AsyncOpenAI, AzureOpenAI, OpenAI

from tests.support import openai_server as fake_openai
from tests.support.openai_server import (
    DEFAULT_EMBEDDING_DIMENSIONS,
    FakeOpenAIServer,
    Fault,
    estimate_prompt_tokens,
    fake_embedding,
)

openai_server = fake_openai.openai_server

API_VERSION = "2024-10-21"
MESSAGES: list[Any] = [
    {"role": "system", "content": "Extract facts."},
    {"role": "user", "content": "Alice lives in Paris."},
]


class Facts(pydantic.BaseModel):
    facts: list[str]


def _client(server: FakeOpenAIServer, **kwargs: Any) -> OpenAI:
    return OpenAI(base_url=server.openai_base_url, api_key="sk-test", **kwargs)


def _azure(server: FakeOpenAIServer, **kwargs: Any) -> AzureOpenAI:
    return AzureOpenAI(
        azure_endpoint=server.azure_endpoint, api_key="az-key", api_version=API_VERSION, **kwargs
    )


def _parse(client: OpenAI, model: str = "gpt-test", **kwargs: Any) -> Any:
    return client.chat.completions.parse(
        model=model, messages=MESSAGES, response_format=Facts, **kwargs
    )


def _raw_post(
    server: FakeOpenAIServer, path: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        server.url + path,
        data=data,
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# structured answers -------------------------------------------------------------


def test_openai_style_parse(openai_server: FakeOpenAIServer) -> None:
    openai_server.queue(Facts(facts=["Alice lives in Paris"]))
    completion = _parse(_client(openai_server))

    assert completion.choices[0].message.parsed == Facts(facts=["Alice lives in Paris"])
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "gpt-test"
    prompt_tokens = estimate_prompt_tokens(MESSAGES)
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == prompt_tokens
    content = completion.choices[0].message.content
    assert completion.usage.completion_tokens == len(content) // 4 + 1

    (request,) = openai_server.requests
    assert (request.style, request.endpoint, request.model) == (
        "openai",
        "chat.completions",
        "gpt-test",
    )
    assert request.deployment is None
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.api_key == "sk-test"
    assert request.messages == MESSAGES
    assert request.body["response_format"]["json_schema"]["name"] == "Facts"
    assert request.status == 200
    assert openai_server.chat_calls == openai_server.completed_chat_calls == 1
    assert openai_server.total_prompt_tokens == prompt_tokens
    assert openai_server.total_completion_tokens == completion.usage.completion_tokens
    assert openai_server.pending_responses == 0
    openai_server.assert_no_violations()


def test_azure_style_parse(openai_server: FakeOpenAIServer) -> None:
    openai_server.queue({"facts": ["from a dict"]})
    completion = _parse(_azure(openai_server), model="my-deployment")

    assert completion.choices[0].message.parsed == Facts(facts=["from a dict"])
    (request,) = openai_server.requests
    assert request.style == "azure"
    assert request.path == "/openai/deployments/my-deployment/chat/completions"
    assert request.deployment == request.model == "my-deployment"
    assert request.api_version == API_VERSION
    assert request.headers["api-key"] == "az-key"
    assert request.api_key == "az-key"
    openai_server.assert_no_violations()


@pytest.mark.asyncio
async def test_async_clients(openai_server: FakeOpenAIServer) -> None:
    openai_server.queue({"facts": ["one"]}, {"facts": ["two"]})
    async_openai = AsyncOpenAI(base_url=openai_server.openai_base_url, api_key="sk")
    async_azure = AsyncAzureOpenAI(
        azure_endpoint=openai_server.url, api_key="k", api_version=API_VERSION
    )
    first = await async_openai.chat.completions.parse(
        model="gpt-test", messages=MESSAGES, response_format=Facts
    )
    second = await async_azure.chat.completions.parse(
        model="dep", messages=MESSAGES, response_format=Facts
    )
    await async_openai.close()
    await async_azure.close()

    assert first.choices[0].message.parsed == Facts(facts=["one"])
    assert second.choices[0].message.parsed == Facts(facts=["two"])
    assert [r.style for r in openai_server.requests] == ["openai", "azure"]
    assert openai_server.requests[0].headers["x-stainless-async"].startswith("async:")


def test_handler_computes_answer_from_prompt(openai_server: FakeOpenAIServer) -> None:
    def handler(body: dict[str, Any]) -> Facts:
        return Facts(facts=[m["content"].upper() for m in body["messages"] if m["role"] == "user"])

    openai_server.script(handler)
    client = _client(openai_server)
    assert _parse(client).choices[0].message.parsed == Facts(facts=["ALICE LIVES IN PARIS."])
    assert _parse(client).choices[0].message.parsed == Facts(facts=["ALICE LIVES IN PARIS."])

    openai_server.queue({"facts": ["queued first"]})
    assert _parse(client).choices[0].message.parsed == Facts(facts=["queued first"])
    assert openai_server.chat_calls == 3


def test_concurrent_requests_are_all_recorded(openai_server: FakeOpenAIServer) -> None:
    openai_server.script(lambda body: {"facts": [body["model"]]})
    client = _client(openai_server)
    results: dict[str, Any] = {}

    def call(name: str) -> None:
        results[name] = _parse(client, model=name).choices[0].message.parsed

    threads = [threading.Thread(target=call, args=(f"m{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == {f"m{i}": Facts(facts=[f"m{i}"]) for i in range(8)}
    assert sorted(r.model or "" for r in openai_server.requests) == sorted(results)
    assert openai_server.completed_chat_calls == 8


# faults ------------------------------------------------------------------------


def test_rate_limit_then_success_is_retried(openai_server: FakeOpenAIServer) -> None:
    openai_server.queue(Fault.rate_limit(retry_after=0.1), {"facts": ["after retry"]})
    start = time.monotonic()
    completion = _parse(_client(openai_server, max_retries=2))

    assert time.monotonic() - start >= 0.1
    assert completion.choices[0].message.parsed == Facts(facts=["after retry"])
    assert [(r.status, r.retry_count) for r in openai_server.requests] == [(429, 0), (200, 1)]
    assert openai_server.chat_calls == 2
    assert openai_server.completed_chat_calls == 1
    assert openai_server.total_prompt_tokens == estimate_prompt_tokens(MESSAGES)


def test_rate_limit_headers_without_retries(openai_server: FakeOpenAIServer) -> None:
    openai_server.queue(Fault.rate_limit(retry_after=2))
    with pytest.raises(openai.RateLimitError) as info:
        _parse(_client(openai_server, max_retries=0))

    assert info.value.status_code == 429
    assert info.value.response.headers["retry-after"] == "2"
    assert info.value.response.headers["retry-after-ms"] == "2000"
    assert info.value.code == "rate_limit_exceeded"
    assert openai_server.total_prompt_tokens == 0


def test_server_errors_exhaust_retries(openai_server: FakeOpenAIServer) -> None:
    openai_server.queue(
        Fault.server_error(500, retry_after=0.01),
        Fault.server_error(503, retry_after=0.01),
        Fault.server_error(502, retry_after=0.01),
        {"facts": ["never reached"]},
    )
    with pytest.raises(openai.InternalServerError) as info:
        _parse(_client(openai_server, max_retries=2))

    assert info.value.status_code == 502
    assert [r.status for r in openai_server.requests] == [500, 503, 502]
    assert openai_server.pending_responses == 1
    assert openai_server.completed_chat_calls == 0


def test_server_error_without_retries(openai_server: FakeOpenAIServer) -> None:
    openai_server.queue(Fault.server_error())
    with pytest.raises(openai.InternalServerError) as info:
        _parse(_client(openai_server, max_retries=0))
    assert info.value.status_code == 500
    assert openai_server.chat_calls == 1


def test_timeout_raises_api_timeout_error(openai_server: FakeOpenAIServer) -> None:
    openai_server.queue(Fault.timeout(5))
    start = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        _parse(_client(openai_server, max_retries=0, timeout=0.2))

    assert time.monotonic() - start < 2
    assert openai_server.chat_calls == 1


@pytest.mark.asyncio
async def test_async_timeout_then_success(openai_server: FakeOpenAIServer) -> None:
    openai_server.queue(Fault.timeout(5), {"facts": ["second try"]})
    client = AsyncOpenAI(
        base_url=openai_server.openai_base_url, api_key="sk", timeout=0.2, max_retries=1
    )
    completion = await client.chat.completions.parse(
        model="gpt-test", messages=MESSAGES, response_format=Facts
    )
    await client.close()
    assert completion.choices[0].message.parsed == Facts(facts=["second try"])
    assert openai_server.chat_calls == 2


def test_stop_cuts_a_held_request_short() -> None:
    server = FakeOpenAIServer().start()
    server.queue(Fault.timeout(30))
    client = _client(server, max_retries=0, timeout=10)
    errors: list[Exception] = []

    def call() -> None:
        try:
            _parse(client)
        except Exception as exc:
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    start = time.monotonic()
    server.stop()
    thread.join(timeout=5)

    assert time.monotonic() - start < 2
    assert not thread.is_alive()
    assert len(errors) == 1
    assert isinstance(errors[0], openai.APIError)


def test_malformed_content_raises_validation_error(openai_server: FakeOpenAIServer) -> None:
    openai_server.queue(Fault.malformed())
    with pytest.raises(pydantic.ValidationError) as info:
        _parse(_client(openai_server))

    assert info.value.errors()[0]["type"] == "json_invalid"
    assert openai_server.completed_chat_calls == 1
    assert openai_server.total_completion_tokens == len('{"facts": [') // 4 + 1


def test_malformed_content_with_plain_create(openai_server: FakeOpenAIServer) -> None:
    openai_server.queue(Fault.malformed("not json at all"))
    completion = _client(openai_server).chat.completions.create(
        model="gpt-test",
        messages=MESSAGES,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "Facts", "schema": Facts.model_json_schema()},
        },
    )
    assert completion.choices[0].message.content == "not json at all"


def test_refusal(openai_server: FakeOpenAIServer) -> None:
    openai_server.queue(Fault.refusal("I can't help"))
    message = _parse(_client(openai_server)).choices[0].message

    assert message.refusal == "I can't help"
    assert message.content is None
    assert message.parsed is None


def test_truncated_and_content_filter(openai_server: FakeOpenAIServer) -> None:
    openai_server.queue(Fault.truncated(), Fault.content_filter())
    client = _client(openai_server)
    with pytest.raises(openai.LengthFinishReasonError):
        _parse(client)
    with pytest.raises(openai.ContentFilterFinishReasonError):
        _parse(client)


# protocol checks -----------------------------------------------------------------


def test_missing_response_format_is_a_violation(openai_server: FakeOpenAIServer) -> None:
    openai_server.queue({"facts": []})
    with pytest.raises(openai.BadRequestError) as info:
        _client(openai_server).chat.completions.create(model="gpt-test", messages=MESSAGES)

    assert info.value.status_code == 400
    assert info.value.param == "response_format"
    assert "json_schema" in info.value.message
    (violation,) = openai_server.violations
    assert "response_format" in violation.reason
    assert violation.path == "/v1/chat/completions"
    assert openai_server.pending_responses == 1
    with pytest.raises(AssertionError, match="response_format"):
        openai_server.assert_no_violations()


def test_json_object_response_format_is_a_violation(openai_server: FakeOpenAIServer) -> None:
    with pytest.raises(openai.BadRequestError):
        _azure(openai_server).chat.completions.create(
            model="dep", messages=MESSAGES, response_format={"type": "json_object"}
        )
    assert len(openai_server.violations) == 1


def test_no_scripted_response_fails_loudly(openai_server: FakeOpenAIServer) -> None:
    with pytest.raises(openai.InternalServerError, match="no scripted response"):
        _parse(_client(openai_server, max_retries=2))

    assert openai_server.chat_calls == 1
    assert openai_server.requests[0].status == 500
    assert "no scripted response" in openai_server.violations[0].reason


def test_handler_error_is_reported(openai_server: FakeOpenAIServer) -> None:
    def handler(body: dict[str, Any]) -> Facts:
        raise KeyError("boom")

    openai_server.script(handler)
    with pytest.raises(openai.InternalServerError, match="KeyError"):
        _parse(_client(openai_server))
    assert "KeyError" in openai_server.violations[0].reason


def test_raw_protocol_errors(openai_server: FakeOpenAIServer) -> None:
    auth = {"Authorization": "Bearer sk"}
    status, body = _raw_post(openai_server, "/v1/unknown", {}, auth)
    assert status == 404
    assert body["error"]["code"] == "not_found"

    status, body = _raw_post(openai_server, "/v1/embeddings", {"model": "e", "input": "x"})
    assert status == 401
    assert body["error"]["code"] == "invalid_api_key"

    path = "/openai/deployments/dep/embeddings"
    status, _ = _raw_post(openai_server, path, {"input": "x"}, {"api-key": "k"})
    assert status == 400

    status, _ = _raw_post(openai_server, "/v1/chat/completions", b"{not json", auth)
    assert status == 400

    status, body = _raw_post(
        openai_server, f"{path}?api-version=1", {"input": "x"}, {"api-key": "k"}
    )
    assert status == 200
    assert body["model"] == "dep"

    assert [r.status for r in openai_server.requests] == [404, 401, 400, 400, 200]
    assert len(openai_server.violations) == 4


# embeddings ----------------------------------------------------------------------


def test_embeddings_float_and_base64_agree(openai_server: FakeOpenAIServer) -> None:
    client = _client(openai_server)
    texts = ["Alice lives in Paris", "Bob lives in Paris", "quantum chromodynamics"]
    as_float = client.embeddings.create(
        model="text-embedding-3-small", input=texts, dimensions=64, encoding_format="float"
    )
    as_base64 = client.embeddings.create(model="text-embedding-3-small", input=texts, dimensions=64)

    assert openai_server.requests[0].body["encoding_format"] == "float"
    assert openai_server.requests[1].body["encoding_format"] == "base64"
    floats = [d.embedding for d in as_float.data]
    assert floats == [d.embedding for d in as_base64.data]
    assert floats == [fake_embedding(t, 64) for t in texts]
    assert all(len(v) == 64 for v in floats)
    assert all(math.isclose(math.fsum(x * x for x in v), 1.0, rel_tol=1e-5) for v in floats)

    def cosine(a: list[float], b: list[float]) -> float:
        return math.fsum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(floats[0], floats[1]) > cosine(floats[0], floats[2])
    assert as_float.usage.prompt_tokens == as_float.usage.total_tokens > 0
    assert openai_server.embedding_calls == 2
    assert openai_server.total_embedding_tokens == 2 * as_float.usage.total_tokens
    openai_server.assert_no_violations()


@pytest.mark.asyncio
async def test_async_azure_embeddings_default_dimensions(openai_server: FakeOpenAIServer) -> None:
    client = AsyncAzureOpenAI(
        azure_endpoint=openai_server.url, api_key="k", api_version=API_VERSION
    )
    response = await client.embeddings.create(model="embed-deployment", input="hello")
    await client.close()

    assert len(response.data[0].embedding) == DEFAULT_EMBEDDING_DIMENSIONS
    assert response.data[0].embedding == fake_embedding("hello")
    assert response.model == "embed-deployment"
    (request,) = openai_server.requests
    assert (request.style, request.endpoint) == ("azure", "embeddings")


def test_embedding_faults_are_retried(openai_server: FakeOpenAIServer) -> None:
    openai_server.queue_embedding_faults(Fault.rate_limit(retry_after=0.01))
    response = _client(openai_server, max_retries=1).embeddings.create(
        model="e", input=["a"], dimensions=4
    )
    assert len(response.data[0].embedding) == 4
    assert [r.status for r in openai_server.requests] == [429, 200]
    with pytest.raises(ValueError):
        openai_server.queue_embedding_faults(Fault.malformed())


# lifecycle -----------------------------------------------------------------------


def test_lifecycle_and_reset() -> None:
    assert not FakeOpenAIServer().running
    server = FakeOpenAIServer()
    with pytest.raises(RuntimeError):
        _ = server.url
    with server:
        assert server.running
        assert server.url.startswith("http://127.0.0.1:")
        with pytest.raises(RuntimeError):
            server.start()
        server.queue({"facts": []})
        _parse(_client(server))
        assert server.chat_calls == 1
        server.reset()
        assert server.requests == [] and server.chat_calls == 0
        assert server.total_prompt_tokens == 0 and server.pending_responses == 0
    server.stop()
    assert not server.running


def test_unsupported_scripted_response_is_rejected() -> None:
    with pytest.raises(TypeError):
        FakeOpenAIServer().queue(object())  # type: ignore[arg-type]
