"""Hermetic OpenAI-compatible HTTP server for tests.

Serves chat completions and embeddings on 127.0.0.1 in both the OpenAI
(``/v1/...``) and Azure OpenAI (``/openai/deployments/{deployment}/...``)
URL styles. Chat answers come from a per-test script; embeddings are
deterministic. Every request is recorded, and protocol violations (such as a
chat request without a JSON-schema ``response_format``) are answered with 400
and collected in :attr:`FakeOpenAIServer.violations`.

Typical use::

    with FakeOpenAIServer() as server:
        server.queue({"facts": []}, Fault.rate_limit(retry_after=0.01))
        client = OpenAI(base_url=server.openai_base_url, api_key="x")
        ...
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import math
import os
import re
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Protocol, Self, TypeAlias, cast, runtime_checkable
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

__all__ = [
    "DEFAULT_EMBEDDING_DIMENSIONS",
    "ChatHandler",
    "Endpoint",
    "FakeOpenAIServer",
    "Fault",
    "JsonModel",
    "RecordedRequest",
    "ScriptedResponse",
    "Style",
    "Violation",
    "estimate_completion_tokens",
    "estimate_prompt_tokens",
    "fake_embedding",
    "message_text",
    "openai_server",
]

DEFAULT_EMBEDDING_DIMENSIONS = 1536
MAX_EMBEDDING_DIMENSIONS = 8192

Style: TypeAlias = Literal["openai", "azure"]
Endpoint: TypeAlias = Literal["chat.completions", "embeddings"]

_OPENAI_PATH = re.compile(r"^/v1/(?P<endpoint>chat/completions|embeddings)$")
_AZURE_PATH = re.compile(
    r"^/openai/deployments/(?P<deployment>[^/]+)/(?P<endpoint>chat/completions|embeddings)$"
)
_WORD = re.compile(r"\w+", re.UNICODE)
_CONNECTION_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


@runtime_checkable
class JsonModel(Protocol):
    """Anything with pydantic's ``model_dump_json`` (a ``BaseModel`` instance)."""

    def model_dump_json(self) -> str: ...


@dataclass(frozen=True)
class Fault:
    """A scripted failure or unusual answer; build one with the class methods."""

    kind: Literal["http_error", "timeout", "message"]
    status: int = 200
    message: str = ""
    error_type: str = ""
    code: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0
    content: str | None = None
    refusal_text: str | None = None
    finish_reason: str = "stop"

    @classmethod
    def http_error(
        cls,
        status: int,
        message: str = "scripted error",
        *,
        error_type: str = "server_error",
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        """Answer with ``status`` and an OpenAI-style error body."""
        if not 400 <= status <= 599:
            raise ValueError(f"http_error status must be 4xx or 5xx, got {status}")
        return cls(
            kind="http_error",
            status=status,
            message=message,
            error_type=error_type,
            code=code,
            headers=tuple((headers or {}).items()),
        )

    @classmethod
    def rate_limit(cls, retry_after: float = 0.01, message: str = "Rate limit reached") -> Fault:
        """429 with ``retry-after`` (seconds) and ``retry-after-ms`` headers.

        The openai client waits ``retry_after`` when it is > 0 (up to 120 s), otherwise
        it falls back to its own exponential backoff (about 0.5 s, 1 s, ...).
        """
        return cls.http_error(
            429,
            message,
            error_type="requests",
            code="rate_limit_exceeded",
            headers={**_retry_after_headers(retry_after), "x-ratelimit-remaining-requests": "0"},
        )

    @classmethod
    def server_error(
        cls,
        status: int = 500,
        message: str = "The server had an error",
        *,
        retry_after: float | None = None,
    ) -> Fault:
        """A 5xx answer (which the openai client retries), optionally with retry-after headers."""
        if not 500 <= status <= 599:
            raise ValueError(f"server_error status must be 5xx, got {status}")
        headers = _retry_after_headers(retry_after) if retry_after is not None else None
        return cls.http_error(status, message, error_type="server_error", headers=headers)

    @classmethod
    def timeout(cls, seconds: float = 30.0) -> Fault:
        """Hold the request for ``seconds`` (cut short by ``stop()``), then answer 504."""
        if seconds <= 0:
            raise ValueError("timeout seconds must be > 0")
        return cls(
            kind="timeout",
            status=504,
            message="scripted timeout elapsed",
            error_type="timeout",
            seconds=seconds,
        )

    @classmethod
    def malformed(cls, content: str = '{"facts": [') -> Fault:
        """200 whose message content is not valid JSON."""
        return cls(kind="message", content=content)

    @classmethod
    def refusal(cls, text: str = "I can't help with that.") -> Fault:
        """200 whose message carries ``refusal`` and ``content: null``."""
        return cls(kind="message", refusal_text=text)

    @classmethod
    def truncated(cls, content: str = '{"facts": [') -> Fault:
        """200 with ``finish_reason="length"`` (the client's parse raises on it)."""
        return cls(kind="message", content=content, finish_reason="length")

    @classmethod
    def content_filter(cls) -> Fault:
        """200 with ``finish_reason="content_filter"`` and no content."""
        return cls(kind="message", finish_reason="content_filter")


def _retry_after_headers(seconds: float) -> dict[str, str]:
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError(f"retry_after must be a finite number >= 0, got {seconds}")
    as_float = float(seconds)
    text = str(int(as_float)) if as_float.is_integer() else repr(as_float)
    return {"retry-after": text, "retry-after-ms": str(round(as_float * 1000))}


ScriptedResponse: TypeAlias = Fault | JsonModel | Mapping[str, Any] | list[Any] | str
"""A chat answer: a model/dict/list (sent as JSON content), raw content text, or a Fault."""

ChatHandler: TypeAlias = Callable[[dict[str, Any]], ScriptedResponse]
"""Computes a chat answer from the parsed request body."""


@dataclass
class RecordedRequest:
    """One HTTP request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    style: Style | None
    endpoint: Endpoint | None
    deployment: str | None
    model: str | None
    body: Any
    headers: dict[str, str]
    status: int | None = None

    @property
    def api_version(self) -> str | None:
        """The ``api-version`` query parameter (Azure style)."""
        return self.query.get("api-version")

    @property
    def api_key(self) -> str | None:
        """The key from ``api-key`` or ``Authorization: Bearer ...``."""
        if "api-key" in self.headers:
            return self.headers["api-key"]
        auth = self.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    @property
    def retry_count(self) -> int:
        """The openai client's ``x-stainless-retry-count`` header (0 if absent)."""
        try:
            return int(self.headers.get("x-stainless-retry-count", "0"))
        except ValueError:
            return 0

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Chat messages of the body (empty if none)."""
        if isinstance(self.body, dict) and isinstance(self.body.get("messages"), list):
            return [m for m in self.body["messages"] if isinstance(m, dict)]
        return []


@dataclass(frozen=True)
class Violation:
    """A request the server rejected because it broke the expected protocol."""

    reason: str
    method: str
    path: str
    body: Any = field(default=None, repr=False)

    def __str__(self) -> str:
        return f"{self.method} {self.path}: {self.reason}"


def message_text(message: Mapping[str, Any]) -> str:
    """Text of one chat message (string content or the text parts of a list)."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return ""


def estimate_prompt_tokens(messages: list[dict[str, Any]]) -> int:
    """Deterministic estimate: total characters of message contents // 4 + 1."""
    return sum(len(message_text(m)) for m in messages) // 4 + 1


def estimate_completion_tokens(text: str | None) -> int:
    """Deterministic estimate: ``len(text) // 4 + 1``."""
    return len(text or "") // 4 + 1


def fake_embedding(text: str, dimensions: int = DEFAULT_EMBEDDING_DIMENSIONS) -> list[float]:
    """Deterministic L2-normalised bag-of-words hashing embedding (float32 values).

    Texts sharing words get a positive cosine similarity; equal texts get equal
    vectors. Values are rounded to float32 so float and base64 answers agree.
    """
    if dimensions < 1:
        raise ValueError("dimensions must be >= 1")
    vector = [0.0] * dimensions
    words = _WORD.findall(text.lower()) or [text]
    for word in words:
        digest = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
        vector[digest % dimensions] += 1.0 if digest >> 63 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0.0:
        vector[0], norm = 1.0, 1.0
    packed = struct.pack(f"<{dimensions}f", *(v / norm for v in vector))
    return list(struct.unpack(f"<{dimensions}f", packed))


def _embedding_inputs(raw: Any) -> list[str] | None:
    """Normalise the ``input`` field (str, [str], [int], [[int]]) to texts."""
    if isinstance(raw, str):
        return [raw]
    if not isinstance(raw, list) or not raw:
        return None
    if all(isinstance(item, str) for item in raw):
        return cast(list[str], raw)
    if all(isinstance(item, int) for item in raw):
        return [" ".join(str(token) for token in raw)]
    if all(isinstance(item, list) and all(isinstance(t, int) for t in item) for item in raw):
        return [" ".join(str(token) for token in item) for item in raw]
    return None


def _error_body(
    message: str, error_type: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


@dataclass
class _Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class _Rejected(Exception):
    """Internal: the request is answered with an error and recorded as a violation."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        retry: bool = False,
    ) -> None:
        super().__init__(message)
        headers = {} if retry else {"x-should-retry": "false"}
        self.reply = _Reply(status, _error_body(message, error_type, code, param), headers)


class FakeOpenAIServer:
    """Local OpenAI/Azure OpenAI stand-in; use as a context manager or ``start()``/``stop()``."""

    def __init__(self, *, host: str = "127.0.0.1", require_auth: bool = True) -> None:
        self._host = host
        self._require_auth = require_auth
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._queue: deque[ScriptedResponse] = deque()
        self._embedding_faults: deque[Fault] = deque()
        self._handler: ChatHandler | None = None
        self._requests: list[RecordedRequest] = []
        self._violations: list[Violation] = []
        self._completed_chat_calls = 0
        self._prompt_tokens = 0
        self._completion_tokens = 0
        self._embedding_tokens = 0

    # lifecycle -----------------------------------------------------------

    def start(self) -> Self:
        """Bind to a free port on ``host`` and serve in a daemon thread."""
        if self._httpd is not None:
            raise RuntimeError("server already started")
        self._stopping.clear()
        httpd = _HTTPServer((self._host, 0), _RequestHandler)
        httpd.fake = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-openai-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake held (timeout) requests, stop serving and close the socket."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._httpd is not None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``; also the Azure ``azure_endpoint``."""
        if self._httpd is None:
            raise RuntimeError("server not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def openai_base_url(self) -> str:
        """``base_url`` for ``OpenAI``/``AsyncOpenAI`` (``<url>/v1``)."""
        return f"{self.url}/v1"

    @property
    def azure_endpoint(self) -> str:
        """``azure_endpoint`` for ``AzureOpenAI``/``AsyncAzureOpenAI``."""
        return self.url

    # scripting -----------------------------------------------------------

    def queue(self, *responses: ScriptedResponse) -> Self:
        """Append chat answers, consumed one per chat request, before any handler."""
        for response in responses:
            _check_response(response)
        with self._lock:
            self._queue.extend(responses)
        return self

    def script(self, handler: ChatHandler | None) -> Self:
        """Answer chat requests (once the queue is empty) with ``handler(body)``; None clears it."""
        with self._lock:
            self._handler = handler
        return self

    def queue_embedding_faults(self, *faults: Fault) -> Self:
        """Answer the next embeddings requests with these faults (HTTP errors/timeouts only)."""
        for fault in faults:
            if not isinstance(fault, Fault) or fault.kind == "message":
                raise ValueError(f"embeddings take only HTTP error or timeout faults: {fault!r}")
        with self._lock:
            self._embedding_faults.extend(faults)
        return self

    @property
    def pending_responses(self) -> int:
        """Queued chat answers not yet consumed."""
        with self._lock:
            return len(self._queue)

    def reset(self) -> None:
        """Forget the script, queues, recorded requests, violations and counters."""
        with self._lock:
            self._queue.clear()
            self._embedding_faults.clear()
            self._handler = None
            self._requests.clear()
            self._violations.clear()
            self._completed_chat_calls = 0
            self._prompt_tokens = 0
            self._completion_tokens = 0
            self._embedding_tokens = 0

    # observations ----------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of every request received, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """Snapshot of the chat completion requests (every attempt, retries included)."""
        return [r for r in self.requests if r.endpoint == "chat.completions"]

    @property
    def embedding_requests(self) -> list[RecordedRequest]:
        """Snapshot of the embeddings requests."""
        return [r for r in self.requests if r.endpoint == "embeddings"]

    @property
    def violations(self) -> list[Violation]:
        """Snapshot of the protocol violations seen."""
        with self._lock:
            return list(self._violations)

    def assert_no_violations(self) -> None:
        """Raise AssertionError listing the violations, if any."""
        violations = self.violations
        assert not violations, "fake OpenAI server violations:\n" + "\n".join(map(str, violations))

    @property
    def chat_calls(self) -> int:
        """Chat completion requests received (every attempt, whatever the answer)."""
        return len(self.chat_requests)

    @property
    def completed_chat_calls(self) -> int:
        """Chat completion requests answered with 200."""
        with self._lock:
            return self._completed_chat_calls

    @property
    def total_prompt_tokens(self) -> int:
        """Sum of ``usage.prompt_tokens`` over chat answers with status 200."""
        with self._lock:
            return self._prompt_tokens

    @property
    def total_completion_tokens(self) -> int:
        """Sum of ``usage.completion_tokens`` over chat answers with status 200."""
        with self._lock:
            return self._completion_tokens

    @property
    def embedding_calls(self) -> int:
        """Embeddings requests received (every attempt)."""
        return len(self.embedding_requests)

    @property
    def total_embedding_tokens(self) -> int:
        """Sum of ``usage.prompt_tokens`` over embeddings answers with status 200."""
        with self._lock:
            return self._embedding_tokens

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"<FakeOpenAIServer {where} requests={len(self.requests)}>"

    # request handling (called from handler threads) --------------------------

    def _handle(self, handler: _RequestHandler, method: str) -> None:
        split = urlsplit(handler.path)
        path = split.path
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in handler.headers.items()}
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError:
            length = 0
        raw = handler.rfile.read(length) if length > 0 else b""
        body: Any = None
        body_error: str | None = None
        if raw:
            try:
                body = json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                body_error = f"request body is not valid JSON: {exc}"

        style: Style | None = None
        endpoint: Endpoint | None = None
        deployment: str | None = None
        if match := _OPENAI_PATH.match(path):
            style = "openai"
        elif match := _AZURE_PATH.match(path):
            style = "azure"
            deployment = unquote(match["deployment"])
        if match:
            endpoint = "embeddings" if match["endpoint"] == "embeddings" else "chat.completions"
        body_model = body.get("model") if isinstance(body, dict) else None
        model = deployment
        if model is None and isinstance(body_model, str):
            model = body_model

        record = RecordedRequest(
            method=method,
            path=path,
            query=query,
            style=style,
            endpoint=endpoint,
            deployment=deployment,
            model=model,
            body=body,
            headers=headers,
        )
        with self._lock:
            self._requests.append(record)

        try:
            self._check_request(record, body_error)
            if record.endpoint == "embeddings":
                reply = self._answer_embeddings(record)
            else:
                reply = self._answer_chat(record)
        except _Rejected as rejected:
            with self._lock:
                self._violations.append(Violation(str(rejected), method, path, body))
            reply = rejected.reply
        except Exception as exc:
            reason = f"fake server error {type(exc).__name__}: {exc}"
            with self._lock:
                self._violations.append(Violation(reason, method, path, body))
            reply = _Reply(500, _error_body(reason, "server_error"), {"x-should-retry": "false"})

        with self._lock:
            record.status = reply.status
        handler.send_json(reply.status, reply.body, reply.headers)

    def _check_request(self, record: RecordedRequest, body_error: str | None) -> None:
        if record.endpoint is None:
            raise _Rejected(404, f"Unknown path {record.path!r}", code="not_found")
        if record.method != "POST":
            raise _Rejected(405, f"Method {record.method} not allowed on {record.path}")
        if self._require_auth and not record.api_key:
            raise _Rejected(
                401,
                "Missing API key (Authorization: Bearer ... or api-key header)",
                code="invalid_api_key",
            )
        if record.style == "azure" and not record.api_version:
            raise _Rejected(400, "Missing api-version query parameter", param="api-version")
        if body_error is not None:
            raise _Rejected(400, body_error)
        if not isinstance(record.body, dict):
            raise _Rejected(400, "Request body must be a JSON object")
        if record.style == "openai" and not record.model:
            raise _Rejected(400, "Missing required parameter: 'model'", param="model")
        if record.endpoint == "chat.completions":
            _check_chat_body(record.body)

    def _next_chat_response(self, body: dict[str, Any]) -> ScriptedResponse:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            handler = self._handler
        if handler is None:
            raise _Rejected(
                500,
                "no scripted response: use server.queue(...) or server.script(handler)",
                error_type="server_error",
                code="no_scripted_response",
            )
        try:
            response = handler(body)
        except Exception as exc:
            raise _Rejected(
                500,
                f"scripted handler raised {type(exc).__name__}: {exc}",
                error_type="server_error",
                code="handler_error",
            ) from exc
        try:
            _check_response(response)
        except TypeError as exc:
            raise _Rejected(500, str(exc), error_type="server_error", code="handler_error") from exc
        return response

    def _answer_chat(self, record: RecordedRequest) -> _Reply:
        body = cast(dict[str, Any], record.body)
        response = self._next_chat_response(body)
        content: str | None
        refusal: str | None = None
        finish_reason = "stop"
        if isinstance(response, Fault):
            if response.kind != "message":
                return self._answer_fault(response)
            content, refusal = response.content, response.refusal_text
            finish_reason = response.finish_reason
        elif isinstance(response, str):
            content = response
        elif isinstance(response, JsonModel):
            content = response.model_dump_json()
        else:
            content = json.dumps(response)

        prompt_tokens = estimate_prompt_tokens(record.messages)
        completion_tokens = estimate_completion_tokens(content if content is not None else refusal)
        with self._lock:
            self._completed_chat_calls += 1
            self._prompt_tokens += prompt_tokens
            self._completion_tokens += completion_tokens
        answer = {
            "id": f"chatcmpl-fake{next(self._ids):08d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": record.model or "fake-model",
            "system_fingerprint": "fp_fake",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "refusal": refusal,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        return _Reply(200, answer)

    def _answer_embeddings(self, record: RecordedRequest) -> _Reply:
        with self._lock:
            fault = self._embedding_faults.popleft() if self._embedding_faults else None
        if fault is not None:
            return self._answer_fault(fault)
        body = cast(dict[str, Any], record.body)
        texts = _embedding_inputs(body.get("input"))
        if texts is None or any(text == "" for text in texts):
            raise _Rejected(400, "'input' must be a non-empty string or array", param="input")
        dimensions = body.get("dimensions", DEFAULT_EMBEDDING_DIMENSIONS)
        if (
            not isinstance(dimensions, int)
            or isinstance(dimensions, bool)
            or not 1 <= dimensions <= MAX_EMBEDDING_DIMENSIONS
        ):
            raise _Rejected(400, f"Invalid 'dimensions': {dimensions!r}", param="dimensions")
        encoding = body.get("encoding_format", "float")
        if encoding not in ("float", "base64"):
            raise _Rejected(
                400, f"Invalid 'encoding_format': {encoding!r}", param="encoding_format"
            )

        data: list[dict[str, Any]] = []
        for index, text in enumerate(texts):
            vector = fake_embedding(text, dimensions)
            embedding: list[float] | str = (
                base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode("ascii")
                if encoding == "base64"
                else vector
            )
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        tokens = sum(estimate_completion_tokens(text) for text in texts)
        with self._lock:
            self._embedding_tokens += tokens
        answer = {
            "object": "list",
            "data": data,
            "model": record.model or "fake-embedding-model",
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return _Reply(200, answer)

    def _answer_fault(self, fault: Fault) -> _Reply:
        if fault.kind == "timeout":
            self._stopping.wait(fault.seconds)
        return _Reply(
            fault.status,
            _error_body(fault.message, fault.error_type, fault.code),
            dict(fault.headers),
        )


def _check_chat_body(body: dict[str, Any]) -> None:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _Rejected(400, "'messages' must be a non-empty array", param="messages")
    response_format = body.get("response_format")
    if not isinstance(response_format, dict):
        raise _Rejected(
            400,
            "response_format with type 'json_schema' is required (structured outputs)",
            param="response_format",
        )
    if response_format.get("type") != "json_schema":
        raise _Rejected(
            400,
            f"response_format.type must be 'json_schema', got {response_format.get('type')!r}",
            param="response_format.type",
        )
    json_schema = response_format.get("json_schema")
    if not isinstance(json_schema, dict) or not isinstance(json_schema.get("schema"), dict):
        raise _Rejected(
            400,
            "response_format.json_schema.schema must be a JSON object",
            param="response_format.json_schema.schema",
        )


def _check_response(response: object) -> None:
    if not isinstance(response, Fault | JsonModel | Mapping | list | str):
        raise TypeError(f"unsupported scripted response type: {type(response).__name__}")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeOpenAIServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about clients that hang up (e.g. after a client-side timeout)."""
        if isinstance(sys.exc_info()[1], _CONNECTION_ERRORS):
            return
        super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeOpenAI/1.0"
    timeout = 30

    def _dispatch(self) -> None:
        cast(_HTTPServer, self.server).fake._handle(self, self.command)

    do_POST = _dispatch
    do_GET = _dispatch
    do_PUT = _dispatch
    do_PATCH = _dispatch
    do_DELETE = _dispatch

    def send_json(self, status: int, body: Mapping[str, Any], headers: Mapping[str, str]) -> None:
        payload = json.dumps(body).encode()
        self.close_connection = True
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.send_header("x-request-id", f"req_fake_{id(self):x}")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
        except _CONNECTION_ERRORS:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging."""


def _bypass_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_PROXY", "no_proxy"):
        existing = [h for h in os.environ.get(name, "").split(",") if h]
        monkeypatch.setenv(name, ",".join([*existing, "127.0.0.1", "localhost"]))


@pytest.fixture
def openai_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    """A started :class:`FakeOpenAIServer`, stopped after the test (proxies bypassed)."""
    _bypass_proxies(monkeypatch)
    with FakeOpenAIServer() as server:
        yield server
