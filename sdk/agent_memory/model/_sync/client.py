# Generated from agent_memory/model/_async/client.py by scripts/unasync.py. Do not edit:
# change the async source and run `python scripts/unasync.py`.
"""The chat model client: structured outputs, retries, and a usage ledger (sync, generated)."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Sequence
from typing import Any, TypeVar

import openai
from openai import AzureOpenAI, OpenAI
from pydantic import BaseModel, ValidationError

from agent_memory.core.errors import ModelError
from agent_memory.core.models import UsageRecord, utcnow
from agent_memory.core.prompts import PromptRef
from agent_memory.embeddings._sync.embedder import Embedder
from agent_memory.stores._sync.protocol import MemoryStore

T = TypeVar("T", bound=BaseModel)
logger = logging.getLogger("agent_memory.model")

#: Output that is malformed, truncated, filtered or refused is asked for again this often.
OUTPUT_ATTEMPTS = 3

#: Tokens one answer may take (``max_tokens``); the prompts' schemas are bounded to fit in it.
MAX_OUTPUT_TOKENS = 4096


class ModelClient:
    """What activities call: ``parse`` for structured chat, ``embed`` for vectors.

    HTTP failures (429 honouring ``retry-after``, 5xx, timeouts) are retried with backoff by the
    ``openai`` client itself (its ``timeout`` per request and ``max_retries``); unusable output
    is retried here, but only while the call is within ``budget`` seconds of its start (None:
    no budget). Every answered call is appended to the store's usage ledger.
    """

    def __init__(
        self,
        client: OpenAI | AzureOpenAI,
        *,
        model: str,
        embedder: Embedder,
        ledger: MemoryStore | None = None,
        output_attempts: int = OUTPUT_ATTEMPTS,
        max_output_tokens: int = MAX_OUTPUT_TOKENS,
        budget: float | None = None,
    ) -> None:
        self.model = model
        self.embedder = embedder
        self.ledger = ledger
        self._client = client
        self._output_attempts = output_attempts
        self._max_output_tokens = max_output_tokens
        self._budget = budget

    def parse(
        self,
        *,
        user_id: str,
        step: str,
        prompt: PromptRef,
        messages: Sequence[dict[str, str]],
        output: type[T],
        epoch: str | None = None,
    ) -> T:
        """One structured-output chat call; ``ModelError`` when no usable answer comes back.

        An answer cut at ``max_output_tokens`` (``finish_reason: "length"``: a grammar cannot
        close JSON it was not allowed to finish) or failing ``output`` validation counts as
        unusable: its tokens are recorded with ``ok=False`` and the call is made again.
        ``epoch`` (from ``store.user_epoch``) is passed to the usage ledger, so a call that
        returns after the user was forgotten records nothing and raises ``ForgottenError``.
        """
        problem = "no attempt made"
        began = time.monotonic()
        for attempt in range(1, self._output_attempts + 1):
            if attempt > 1 and self._budget is not None and time.monotonic() - began > self._budget:
                raise ModelError(f"{step}: {problem}; out of its {self._budget:g} s budget")
            started = time.perf_counter()
            try:
                raw = self._client.chat.completions.with_raw_response.parse(
                    model=self.model,
                    messages=list(messages),  # type: ignore[arg-type]
                    response_format=output,
                    temperature=0,
                    max_tokens=self._max_output_tokens,
                )
            except openai.OpenAIError as exc:
                raise ModelError(f"{step}: model call failed: {exc}") from exc
            try:
                completion = raw.parse()
            except (
                ValidationError,
                openai.LengthFinishReasonError,
                openai.ContentFilterFinishReasonError,
            ) as exc:
                body = _json_body(raw.http_response.text)
                salvaged = _salvage(body, output) if isinstance(exc, ValidationError) else None
                usage = body.get("usage") if body else None
                self._record(
                    user_id,
                    step,
                    prompt,
                    usage,
                    started,
                    attempt,
                    ok=salvaged is not None,
                    epoch=epoch,
                )
                if salvaged is not None:
                    logger.warning("%s: lone surrogates in the answer replaced by U+FFFD", step)
                    return salvaged
                problem = f"unusable output ({type(exc).__name__})"
                logger.warning("%s: %s, attempt %d", step, problem, attempt)
                continue
            message = completion.choices[0].message
            ok = message.parsed is not None and not message.refusal
            self._record(
                user_id, step, prompt, completion.usage, started, attempt, ok=ok, epoch=epoch
            )
            if ok:
                assert message.parsed is not None
                return message.parsed
            problem = f"refused: {message.refusal}" if message.refusal else "empty output"
            logger.warning("%s: %s, attempt %d", step, problem, attempt)
        raise ModelError(f"{step}: {problem} after {self._output_attempts} attempts")

    def embed(self, texts: Sequence[str]) -> Any:
        """Vectors for ``texts`` from the configured embedder."""
        return self.embedder.embed(texts)

    def _record(
        self,
        user_id: str,
        step: str,
        prompt: PromptRef,
        usage: Any,
        started: float,
        attempt: int,
        *,
        ok: bool,
        epoch: str | None = None,
    ) -> None:
        if self.ledger is None:
            return
        record = UsageRecord(
            user_id=user_id,
            step=step,
            prompt_version=prompt.tag,
            model=self.model,
            input_tokens=_tokens(usage, "prompt_tokens"),
            output_tokens=_tokens(usage, "completion_tokens"),
            latency_ms=(time.perf_counter() - started) * 1000,
            attempt=attempt,
            ok=ok,
            at=utcnow(),
        )
        self.ledger.record_usage(record, epoch=epoch)

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()


#: A ``\\uXXXX`` escape of a surrogate that has no partner (not valid JSON for pydantic).
_LONE_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def _json_body(text: str) -> dict[str, Any]:
    try:
        body = json.loads(text)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _salvage(body: dict[str, Any], output: type[T]) -> T | None:
    """The answer parsed once lone surrogate escapes are replaced by U+FFFD, or None.

    A model can emit ``"\\ud800"`` in its JSON; pydantic refuses the whole answer for it, which
    would fail the step on every retry and block the thread.
    """
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    if not isinstance(content, str) or not _LONE_SURROGATE.search(content):
        return None
    try:
        return output.model_validate_json(_LONE_SURROGATE.sub(r"\\ufffd", content))
    except ValidationError:
        return None


def _count(usage: Any, name: str) -> int:
    """A token count from the completion's usage (an object or, when salvaged, a dict)."""
    value = usage.get(name) if isinstance(usage, dict) else getattr(usage, name, 0)
    return value if isinstance(value, int) and value >= 0 else 0


def _tokens(usage: Any, name: str) -> int:
    """A token count from a usage object or the raw JSON ``usage`` of a cut answer."""
    value = usage.get(name) if isinstance(usage, dict) else getattr(usage, name, 0)
    return value if isinstance(value, int) and value >= 0 else 0
