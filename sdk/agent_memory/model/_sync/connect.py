# Generated from agent_memory/model/_async/connect.py by scripts/unasync.py. Do not edit:
# change the async source and run `python scripts/unasync.py`.
"""OpenAI clients for Azure OpenAI / AI Foundry or an OpenAI-compatible API (sync, generated)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent_memory.core.errors import ConfigurationError
from agent_memory.embeddings._sync.embedder import Embedder, OpenAIEmbedder
from agent_memory.embeddings.local import LocalEmbedder
from agent_memory.settings import Settings, missing_chat_deployment
from agent_memory.stores._sync.protocol import MemoryStore

if TYPE_CHECKING:  # openai loads only when a model is configured
    from openai import AzureOpenAI, OpenAI

    from agent_memory.model._sync.client import ModelClient

COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default"


def azure_openai_client(settings: Settings, credential: Any = None) -> AzureOpenAI:
    """Azure OpenAI with an API key, or Entra ID via ``credential`` (``DefaultAzureCredential``)."""
    from openai import AzureOpenAI

    if not settings.ai_foundry_endpoint:
        raise ConfigurationError("AI_FOUNDRY_ENDPOINT is not set")
    if settings.ai_foundry_api_key:
        return AzureOpenAI(
            azure_endpoint=settings.ai_foundry_endpoint,
            api_key=settings.ai_foundry_api_key,
            api_version=settings.ai_foundry_api_version,
            timeout=settings.model_timeout,
            max_retries=settings.model_max_retries,
        )
    from azure.identity import DefaultAzureCredential, get_bearer_token_provider

    if credential is None:
        credential = DefaultAzureCredential(managed_identity_client_id=settings.azure_client_id)
    return AzureOpenAI(
        azure_endpoint=settings.ai_foundry_endpoint,
        azure_ad_token_provider=get_bearer_token_provider(credential, COGNITIVE_SERVICES_SCOPE),
        api_version=settings.ai_foundry_api_version,
        timeout=settings.model_timeout,
        max_retries=settings.model_max_retries,
    )


def openai_client(settings: Settings, base_url: str | None = None) -> OpenAI:
    """Any OpenAI-compatible endpoint (``OPENAI_BASE_URL``, ``OPENAI_API_KEY``).

    ``base_url`` overrides ``OPENAI_BASE_URL`` (embeddings served elsewhere than chat).
    """
    from openai import OpenAI

    if not settings.openai_api_key and not (base_url or settings.openai_base_url):
        raise ConfigurationError("set OPENAI_API_KEY (and OPENAI_BASE_URL for a compatible server)")
    return OpenAI(
        api_key=settings.openai_api_key or "unused",
        base_url=base_url or settings.openai_base_url,
        timeout=settings.model_timeout,
        max_retries=settings.model_max_retries,
    )


def build_embedder(settings: Settings, credential: Any = None) -> Embedder:
    """The embedder the settings choose: local wordllama, Azure OpenAI or OpenAI."""
    backend = settings.embedding_backend
    if backend == "azure":
        return OpenAIEmbedder(
            azure_openai_client(settings, credential),
            model=settings.embedding_deployment,
            dimensions=settings.embedding_dimensions,
        )
    if backend == "openai":
        return OpenAIEmbedder(
            openai_client(settings, settings.openai_embedding_base_url),
            model=settings.openai_embedding_model,
            dimensions=settings.embedding_dimensions,
        )
    return LocalEmbedder()


def build_model_client(
    settings: Settings,
    embedder: Embedder,
    ledger: MemoryStore | None,
    credential: Any = None,
) -> ModelClient | None:
    """The chat model the settings configure, or None when no endpoint is set."""
    backend = settings.chat_backend
    if backend is None:
        return None
    from agent_memory.model._sync.client import ModelClient

    if backend == "azure":
        if not settings.chat_deployment:  # Settings refuse this; model_construct does not
            raise ConfigurationError(missing_chat_deployment(settings))
        client: OpenAI | AzureOpenAI = azure_openai_client(settings, credential)
        model = settings.chat_deployment
    else:
        client, model = openai_client(settings), settings.openai_chat_model
    return ModelClient(
        client, model=model, embedder=embedder, ledger=ledger, budget=settings.model_call_budget
    )
