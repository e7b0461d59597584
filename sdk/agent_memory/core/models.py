"""Public data models. Embeddings never appear on them."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal, TypeVar, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    ValidationError,
)

from agent_memory.core.errors import InvalidInputError
from agent_memory.core.validation import check_content, check_identifier, check_metadata, check_text

MemoryType = Literal["fact", "procedural", "episodic"]
MEMORY_TYPES: Final[tuple[MemoryType, ...]] = ("fact", "procedural", "episodic")
#: Memory types that belong to the user rather than to the thread they were said in: a
#: ``thread_id`` filter returns that thread's facts and the user's memories of these types.
USER_SCOPED_TYPES: Final[tuple[MemoryType, ...]] = ("procedural", "episodic")
SupersedeReason = Literal["duplicate", "contradict"]
Role = Literal["user", "assistant", "system", "tool"]
SummaryKind = Literal["thread", "user"]
HitKind = Literal["memory", "turn"]
SearchMode = Literal["hybrid", "text", "vector"]

#: Container names, shared by every store so reports read the same everywhere.
TURNS_CONTAINER: Final = "memories_turns"
MEMORIES_CONTAINER: Final = "memories"
SUMMARIES_CONTAINER: Final = "memories_summaries"
COUNTERS_CONTAINER: Final = "memories_counters"
CONTAINERS: Final = (TURNS_CONTAINER, MEMORIES_CONTAINER, SUMMARIES_CONTAINER, COUNTERS_CONTAINER)

#: Episodic memories expire after 90 days unless told otherwise.
EPISODIC_TTL_SECONDS: Final = 90 * 24 * 3600


M = TypeVar("M", bound=BaseModel)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def _as_utc(value: datetime) -> datetime:
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is out of range once converted to UTC") from None


UserId = Annotated[StrictStr, AfterValidator(lambda v: check_identifier(v, "user_id"))]
ThreadId = Annotated[StrictStr, AfterValidator(lambda v: check_identifier(v, "thread_id"))]
TurnId = Annotated[StrictStr, AfterValidator(lambda v: check_identifier(v, "turn id"))]
Content = Annotated[StrictStr, AfterValidator(lambda v: check_content(v))]
Text = Annotated[StrictStr, AfterValidator(lambda v: check_text(v, "text"))]
Metadata = Annotated[dict[str, Any], AfterValidator(check_metadata)]
UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
Confidence = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


def normalize_content(text: str) -> str:
    """Canonical form used for hashing: NFKC, case-folded, single spaces, no trailing period."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.split()).rstrip(" .")


def content_hash(text: str) -> str:
    """SHA-256 hex digest of :func:`normalize_content`."""
    return hashlib.sha256(normalize_content(text).encode("utf-8")).hexdigest()


def memory_id(user_id: str, memory_type: str, digest: str) -> str:
    """Deterministic memory id from user, type and content hash: retries become no-ops."""
    raw = f"{user_id}\x1f{memory_type}\x1f{digest}".encode()
    return f"mem-{hashlib.sha256(raw).hexdigest()[:32]}"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class TurnInput(_Model):
    """One turn as given to ``add_turns``; id and time default to new values."""

    role: Role
    content: Content
    metadata: Metadata | None = None
    created_at: UtcDatetime | None = None
    id: TurnId | None = None


class Turn(_Model):
    """A raw conversation turn, append-only."""

    id: TurnId
    user_id: UserId
    thread_id: ThreadId
    role: Role
    content: Content
    metadata: Metadata = Field(default_factory=dict)
    created_at: UtcDatetime
    seq: int | None = Field(default=None, description="Store-assigned order within the store.")


class AppendResult(_Model):
    """Turns as stored (in the order given) and how many of them were new."""

    turns: list[Turn]
    created: int = Field(ge=0)


class Memory(_Model):
    """A derived memory: fact, procedural rule or episodic experience."""

    id: str
    user_id: UserId
    thread_id: ThreadId
    type: MemoryType
    content: Content
    confidence: Confidence = 1.0
    content_hash: str
    tags: list[Text] = Field(default_factory=list)
    source_turn_ids: list[Text] = Field(default_factory=list)
    prompt_version: str | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime
    ttl: int | None = Field(default=None, gt=0, description="Seconds until expiry; None = never.")
    superseded_by: str | None = None
    supersede_reason: SupersedeReason | None = None
    superseded_at: UtcDatetime | None = None
    situation: Text | None = None
    action: Text | None = None
    outcome: Text | None = None

    @property
    def active(self) -> bool:
        """True unless superseded."""
        return self.superseded_by is None

    @classmethod
    def create(
        cls,
        *,
        user_id: str,
        thread_id: str,
        type: MemoryType,
        content: str,
        confidence: float = 1.0,
        tags: list[str] | None = None,
        source_turn_ids: list[str] | None = None,
        prompt_version: str | None = None,
        ttl: int | None = None,
        situation: str | None = None,
        action: str | None = None,
        outcome: str | None = None,
        now: datetime | None = None,
    ) -> Memory:
        """Build a memory with its content hash and deterministic id (episodic TTL defaulted)."""
        stamp = now or utcnow()
        check_content(content)
        digest = content_hash(content)
        if type == "episodic" and ttl is None:
            ttl = EPISODIC_TTL_SECONDS
        return parse(
            cls,
            id=memory_id(user_id, type, digest) if isinstance(user_id, str) else "",
            user_id=user_id,
            thread_id=thread_id,
            type=type,
            content=content,
            confidence=confidence,
            content_hash=digest,
            tags=list(tags or []),
            source_turn_ids=list(source_turn_ids or []),
            prompt_version=prompt_version,
            created_at=stamp,
            updated_at=stamp,
            ttl=ttl,
            situation=situation,
            action=action,
            outcome=outcome,
        )


class Summary(_Model):
    """A thread summary or the cross-thread user profile."""

    user_id: UserId
    thread_id: ThreadId | None = None
    kind: SummaryKind
    content: Text
    fields: dict[str, Any] = Field(default_factory=dict)
    covers_up_to: int = Field(default=0, ge=0, description="Turn watermark the summary covers.")
    prompt_version: str | None = None
    updated_at: UtcDatetime


class SearchHit(_Model):
    """One search result: a memory or a turn, with its score (higher is better)."""

    kind: HitKind
    score: float
    memory: Memory | None = None
    turn: Turn | None = None

    @property
    def id(self) -> str:
        """Id of the memory or turn."""
        item = self.memory or self.turn
        assert item is not None
        return item.id

    @property
    def content(self) -> str:
        """Text of the memory or turn."""
        item = self.memory or self.turn
        assert item is not None
        return item.content


class UsageRecord(_Model):
    """One model call, as kept in the usage ledger."""

    user_id: UserId
    step: str
    prompt_version: str | None = None
    model: str
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    latency_ms: float = Field(default=0.0, ge=0)
    attempt: int = Field(default=1, ge=1)
    ok: bool = True
    at: UtcDatetime


class UsageReport(_Model):
    """Totals of a user's usage ledger, per step, with the records themselves."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    calls_by_step: dict[str, int] = Field(default_factory=dict)
    records: list[UsageRecord] = Field(default_factory=list)

    @classmethod
    def of(cls, records: list[UsageRecord]) -> UsageReport:
        """Aggregate ``records``."""
        by_step: dict[str, int] = {}
        for record in records:
            by_step[record.step] = by_step.get(record.step, 0) + 1
        return cls(
            calls=len(records),
            input_tokens=sum(r.input_tokens for r in records),
            output_tokens=sum(r.output_tokens for r in records),
            calls_by_step=by_step,
            records=records,
        )


class CounterIncrement(_Model):
    """Result of an atomic counter increment."""

    before: int
    after: int
    previous_owner: str | None = None


def parse(model: type[M], /, **data: Any) -> M:
    """Validate ``data`` into ``model``, turning pydantic errors into :class:`InvalidInputError`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInputError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "input"
        message = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def supersede_chain(memories: list[Memory], memory_id: str) -> list[Memory]:
    """Memories linked to ``memory_id`` by ``superseded_by`` (either direction), oldest first."""
    by_id = {m.id: m for m in memories}
    linked = {memory_id}
    changed = True
    while changed:
        changed = False
        for m in memories:
            if m.superseded_by and (m.id in linked) != (m.superseded_by in linked):
                linked.update((m.id, m.superseded_by))
                changed = True
    chain = [by_id[i] for i in linked if i in by_id]
    return sorted(
        chain,
        key=lambda m: (m.superseded_at is None, m.superseded_at or m.created_at, m.created_at),
    )


def check_supersede_reason(reason: object) -> SupersedeReason:
    """``reason`` when it is a :data:`SupersedeReason`; ``InvalidInputError`` otherwise."""
    if reason not in get_args(SupersedeReason):
        raise InvalidInputError(
            f"reason: {reason!r} is not one of {', '.join(get_args(SupersedeReason))}"
        )
    return reason  # type: ignore[return-value]
