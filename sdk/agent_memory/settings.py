"""Settings read from the environment; the names match the Function app and ``azd`` outputs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Final, Literal

from pydantic import ConfigDict, Field, ValidationError, model_validator

from agent_memory.core.due import Thresholds
from agent_memory.core.envconfig import ConfigModel, env_values, settings_error
from agent_memory.core.errors import ConfigurationError
from agent_memory.core.validation import DEFAULT_MAX_CONTENT_CHARS

EmbeddingsChoice = Literal["auto", "local", "azure", "openai"]

#: Field name -> environment variable.
ENV_NAMES: Final[dict[str, str]] = {
    "store_path": "AGENT_MEMORY_PATH",
    "max_content_chars": "AGENT_MEMORY_MAX_CONTENT_CHARS",
    "embeddings": "AGENT_MEMORY_EMBEDDINGS",
    "embedding_dimensions": "EMBEDDING_DIMENSIONS",
    "ai_foundry_endpoint": "AI_FOUNDRY_ENDPOINT",
    "ai_foundry_api_key": "AI_FOUNDRY_API_KEY",
    "ai_foundry_api_version": "AI_FOUNDRY_API_VERSION",
    "chat_deployment": "AI_FOUNDRY_CHAT_DEPLOYMENT_NAME",
    "embedding_deployment": "AI_FOUNDRY_EMBEDDING_DEPLOYMENT_NAME",
    "openai_base_url": "OPENAI_BASE_URL",
    "openai_api_key": "OPENAI_API_KEY",
    "openai_chat_model": "OPENAI_CHAT_MODEL",
    "openai_embedding_model": "OPENAI_EMBEDDING_MODEL",
    "openai_embedding_base_url": "OPENAI_EMBEDDING_BASE_URL",
    "azure_client_id": "AZURE_CLIENT_ID",
    "model_timeout": "AGENT_MEMORY_MODEL_TIMEOUT_SECONDS",
    "model_max_retries": "AGENT_MEMORY_MODEL_MAX_RETRIES",
    "processor_owner": "MEMORY_PROCESSOR_OWNER",
    "cosmos_endpoint": "COSMOS_DB_ENDPOINT",
    "cosmos_key": "COSMOS_DB_KEY",
    "cosmos_database": "COSMOS_DB_DATABASE",
    "cosmos_verify_tls": "COSMOS_DB_VERIFY_TLS",
    "cosmos_vector_index": "COSMOS_DB_VECTOR_INDEX_TYPE",
    "cosmos_turns_ttl": "COSMOS_DB_TURNS_TTL_SECONDS",
    "cosmos_counters_ttl": "COSMOS_DB_COUNTERS_TTL_SECONDS",
}


class Settings(ConfigModel):
    """Everything the SDK reads from its environment, typed and validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    env_names: ClassVar[Mapping[str, str]] = ENV_NAMES

    store_path: Path | None = None
    max_content_chars: int = Field(default=DEFAULT_MAX_CONTENT_CHARS, gt=0)
    embeddings: EmbeddingsChoice = "auto"
    embedding_dimensions: int = Field(default=1536, gt=0, le=3072)
    ai_foundry_endpoint: str | None = None
    ai_foundry_api_key: str | None = None
    ai_foundry_api_version: str = "2024-10-21"
    #: Required with ``ai_foundry_endpoint``: no deployment name is guessed.
    chat_deployment: str | None = None
    embedding_deployment: str = "text-embedding-3-large"
    openai_base_url: str | None = None
    openai_api_key: str | None = None
    openai_chat_model: str = "gpt-4o-mini"
    openai_embedding_model: str = "text-embedding-3-large"
    #: Embeddings from another OpenAI-compatible server than chat (e.g. a second llama-server).
    openai_embedding_base_url: str | None = None
    azure_client_id: str | None = None
    model_timeout: float = Field(default=30.0, gt=0, le=600, allow_inf_nan=False)
    model_max_retries: int = Field(default=2, ge=0, le=10)
    processor_owner: Literal["inprocess", "durable"] = "inprocess"
    thresholds: Thresholds = Field(default_factory=Thresholds)
    cosmos_endpoint: str | None = None
    cosmos_key: str | None = None
    cosmos_database: str = Field(
        default="ai_memory", min_length=1, max_length=255, pattern=r"^[^/\\?#]+$"
    )
    cosmos_verify_tls: bool = True
    cosmos_vector_index: Literal["quantizedFlat", "diskANN"] = "quantizedFlat"
    cosmos_turns_ttl: int | None = Field(default=None, gt=0)
    cosmos_counters_ttl: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _endpoint_needs_a_chat_deployment(self) -> Settings:
        if self.ai_foundry_endpoint and not self.chat_deployment:
            raise ConfigurationError(missing_chat_deployment(self))
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read :data:`ENV_NAMES` from ``environ`` (default ``os.environ``); blanks are unset.

        ``overrides`` replace what the environment says, as :meth:`override` takes them, and
        the result is validated once: an override may complete what the environment leaves
        out (``AI_FOUNDRY_ENDPOINT`` in the environment, ``chat_deployment=`` here).
        """
        values = env_values(ENV_NAMES, environ, lowercase=("embeddings", "processor_owner"))
        values["thresholds"] = Thresholds.from_env(environ)
        return cls._validated(_merged(values, overrides))

    def override(self, **values: Any) -> Settings:
        """A validated copy with every value that is not ``None`` replaced.

        Keys are field names; ``thresholds`` may be a :class:`Thresholds` or a mapping of
        its fields (merged over the current ones). A bad value raises ``ConfigurationError``
        naming the argument.
        """
        if all(v is None for v in values.values()):
            return self
        return self._validated(_merged(self.model_dump(), values))

    @classmethod
    def _validated(cls, values: dict[str, Any]) -> Settings:
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise settings_error(exc, ENV_NAMES) from None

    @property
    def model_call_budget(self) -> float:
        """Seconds one model call may take with its retries: timeout x (retries + 1)."""
        return self.model_timeout * (self.model_max_retries + 1)

    @property
    def chat_backend(self) -> Literal["azure", "openai"] | None:
        """Azure when an AI Foundry endpoint is set, else OpenAI when configured, else None."""
        if self.ai_foundry_endpoint:
            return "azure"
        if self.openai_api_key or self.openai_base_url:
            return "openai"
        return None

    @property
    def embedding_backend(self) -> Literal["local", "azure", "openai"]:
        """``auto`` means Azure when an AI Foundry endpoint is set, else the local model."""
        if self.embeddings != "auto":
            return self.embeddings
        return "azure" if self.ai_foundry_endpoint else "local"


def _merged(values: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with every change that is not ``None``; a ``thresholds`` mapping is merged
    over the current thresholds."""
    merged = dict(values)
    for key, value in changes.items():
        if value is None:
            continue
        current = merged.get(key)
        if key == "thresholds" and isinstance(value, Mapping):
            base = current.model_dump() if isinstance(current, Thresholds) else current or {}
            merged[key] = {**base, **value}
        else:
            merged[key] = value
    return merged


def missing_chat_deployment(settings: Settings) -> str:
    """What to set when ``AI_FOUNDRY_ENDPOINT`` comes without a chat deployment (one line)."""
    message = (
        "AI_FOUNDRY_ENDPOINT is set but AI_FOUNDRY_CHAT_DEPLOYMENT_NAME is not: set it to your "
        "chat model's deployment name (chat_deployment= in code)"
    )
    if settings.embeddings == "auto":
        message += (
            ". The endpoint alone also switches embeddings from the local model to the Azure"
            " OpenAI deployment named by AI_FOUNDRY_EMBEDDING_DEPLOYMENT_NAME"
            f" ({settings.embedding_deployment!r}, {settings.embedding_dimensions} dimensions),"
            " and a store keeps the embedding model it was first written with;"
            " AGENT_MEMORY_EMBEDDINGS=local keeps the local model"
        )
    return message
