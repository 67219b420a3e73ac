"""OAuth 2.0 errors (RFC 6749 sections 4.1.2.1 and 5.2), answered as the RFC says rather than
as OperationOutcomes: `{"error", "error_description"}` from the token endpoint, `error=` on the
redirect from the authorization endpoint, or a page when the redirect URI cannot be trusted."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class OAuthError(Exception):
    """An RFC 6749 error: its code, a description and the HTTP status of a direct answer."""

    error: str
    description: str
    status: int = 400
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(f"{self.error}: {self.description}")

    def body(self) -> dict[str, str]:
        """The JSON body of a token endpoint error."""
        return {"error": self.error, "error_description": self.description}


@dataclass
class UntrustedRedirect(Exception):
    """An authorization request that must not be redirected (unknown client, unregistered
    redirect URI, sign-in expired): the browser gets an error page instead."""

    reason: str  # a key of the page texts (rest/smart_texts.py)
    status: int = 400

    def __post_init__(self) -> None:
        super().__init__(self.reason)


def invalid_client(description: str, basic: bool = False) -> OAuthError:
    """401 invalid_client, with a Basic challenge when the client tried Basic (RFC 6749 5.2)."""
    headers = {"WWW-Authenticate": 'Basic realm="fhir"'} if basic else {}
    return OAuthError("invalid_client", description, 401, headers)


def invalid_grant(description: str) -> OAuthError:
    """400 invalid_grant: the code or refresh token is not good (for this client)."""
    return OAuthError("invalid_grant", description)


def invalid_request(description: str) -> OAuthError:
    """400 invalid_request: a parameter is missing, repeated or malformed."""
    return OAuthError("invalid_request", description)
