"""Errors raised while talking to a source (Sentry, Sonar, Jira, Azure).

One tree, so callers catch ``SourceError`` and show its message::

    SourceError               anything a source did that stops a fetch
      SourceUnavailable       timeout, connection failure, 5xx, 429 out of retries
      SourceAuthError         401/403: token missing, expired or lacking a scope
      SourceResponseError     2xx whose body is not the shape we read, or a
                              paginator that repeats itself
      SourceConfigError       a missing environment variable or setting

A message is one sentence naming the source, the object and the fix. It never
holds a token or an Authorization header.
"""

from __future__ import annotations


class SourceError(Exception):
    """A source could not give us what we asked for.

    ``status`` is the HTTP status when there was one; ``detail`` the vendor's own
    error text (Sentry ``detail``, Sonar ``errors[].msg``, Jira ``errorMessages``).
    """

    def __init__(
        self,
        source: str,
        message: str,
        *,
        status: int | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.source = source
        self.message = message
        self.status = status
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class SourceUnavailable(SourceError):
    """The source timed out, refused the connection, failed or kept throttling."""


class SourceAuthError(SourceError):
    """The source refused our credentials (401) or their scope (403)."""


class SourceResponseError(SourceError):
    """The source answered, but not with the shape we read."""


class SourceConfigError(SourceError):
    """An environment variable or setting the source needs is missing."""
