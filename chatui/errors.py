"""A shallow hierarchy of the errors chatui reports to people.

Every error carries a stable `code` (for clients and tests), a `message` written for the person who
has to act on it (what happened and how to fix it, e.g. which environment variable to set), and
whether retrying may help. The pipeline turns them into `error` events; the API turns input errors
into 4xx JSON. What must stay true: no message contains a secret.
"""

from __future__ import annotations


class ChatUIError(Exception):
    """Base class: a failure with a user-facing message and a stable code."""

    code: str = "internal"
    retryable: bool = False
    http_status: int = 500

    def __init__(self, message: str, *, code: str | None = None, retryable: bool | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if retryable is not None:
            self.retryable = retryable


class ConfigError(ChatUIError):
    """chatui is not configured to do what was asked (missing key, bad setting)."""

    code = "config"
    http_status = 503


class InputError(ChatUIError):
    """The request itself is wrong; nothing was started. `http_status` is the 4xx to answer."""

    code = "invalid_request"
    http_status = 400

    def __init__(self, message: str, *, code: str = "invalid_request", http_status: int = 400):
        super().__init__(message, code=code)
        self.http_status = http_status


class ProviderError(ChatUIError):
    """The model provider failed; subclasses say how."""

    code = "provider_error"
    http_status = 502


class ProviderAuthError(ProviderError):
    code = "provider_auth"


class ProviderRateLimitError(ProviderError):
    code = "provider_rate_limited"
    retryable = True


class ProviderUnavailableError(ProviderError):
    code = "provider_unavailable"
    retryable = True


class RetrievalError(ChatUIError):
    """Searching the knowledge base failed (store missing, embedder mismatch, ...)."""

    code = "retrieval"
