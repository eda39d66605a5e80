"""The AI provider: one OpenAI-compatible client (chat completions and embeddings).

No models and no Flask here: callers pass :class:`ProviderSettings` (from ``CHATS_AI_*``, see
:attr:`gincore_chats.config.ChatsConfig.ai`) and get plain values or a :class:`ProviderError`.
Never call it inside an open database transaction: read, commit, call, then store the result
in a new unit of work.
"""

from .client import (
    AIClient,
    Completion,
    Embeddings,
    ProviderError,
    ProviderSettings,
    Usage,
    client_for,
)

__all__ = [
    "AIClient",
    "Completion",
    "Embeddings",
    "ProviderError",
    "ProviderSettings",
    "Usage",
    "client_for",
]
