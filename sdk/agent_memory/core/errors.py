"""The exception hierarchy: every error the SDK raises derives from :class:`AgentMemoryError`."""

from __future__ import annotations


class AgentMemoryError(Exception):
    """Base class of every error raised by agent-memory."""


class InvalidInputError(AgentMemoryError, ValueError):
    """Input failed validation; nothing was written."""


class NotFoundError(AgentMemoryError, LookupError):
    """The requested item does not exist (for this user)."""


class ConfigurationError(AgentMemoryError):
    """Settings are missing, invalid or inconsistent with existing data."""


class StoreError(AgentMemoryError):
    """The storage backend failed."""


class ConflictError(StoreError):
    """A conditional write lost against a concurrent writer."""


class ForgottenError(ConflictError):
    """The user was forgotten while this work was in flight; the write was refused."""


class ModelError(AgentMemoryError):
    """The model service (chat or embeddings) failed or returned unusable output."""


class PartitionFullError(StoreError):
    """A Cosmos DB logical partition (one user's thread, or a user's own records) reached the
    service's size limit (20 GB; status 403, substatus 1014): nothing more can be written there
    until items are deleted or expire."""
