"""The one family of errors: each carries an HTTP status and OperationOutcome issues."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome.issue: severity, code (IssueType), text and FHIRPath expressions."""

    code: str
    diagnostics: str
    severity: str = "error"
    expression: tuple[str, ...] = ()

    def to_fhir(self) -> dict[str, object]:
        """Render as an OperationOutcome.issue element."""
        issue: dict[str, object] = {"severity": self.severity, "code": self.code,
                                    "diagnostics": self.diagnostics}
        if self.expression:
            issue["expression"] = list(self.expression)
        return issue


@dataclass
class FhirError(Exception):
    """Base of every error the server answers with an OperationOutcome."""

    message: str
    issues: list[Issue] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 400
    code: str = "processing"

    def __post_init__(self) -> None:
        super().__init__(self.message)
        if not self.issues:
            self.issues = [Issue(self.code, self.message)]

    @classmethod
    def at(cls, message: str, expression: str, code: str | None = None) -> FhirError:
        """Build the error with one issue pointing at a FHIRPath expression."""
        err = cls(message)
        err.issues = [Issue(code or err.code, message, expression=(expression,))]
        return err


class InvalidRequest(FhirError):
    """400: malformed request, syntax or structural validation failure."""

    def __post_init__(self) -> None:
        self.status, self.code = 400, self.code if self.code != "processing" else "invalid"
        super().__post_init__()


class NotFound(FhirError):
    """404: no such resource, version or type."""

    def __post_init__(self) -> None:
        self.status, self.code = 404, "not-found"
        super().__post_init__()


class Gone(FhirError):
    """410: the resource was deleted."""

    def __post_init__(self) -> None:
        self.status, self.code = 410, "deleted"
        super().__post_init__()


class MethodNotAllowed(FhirError):
    """405: the interaction is not offered at this URL."""

    def __post_init__(self) -> None:
        self.status, self.code = 405, "not-supported"
        super().__post_init__()


class NotAcceptable(FhirError):
    """406: the client asked for a format the server does not produce."""

    def __post_init__(self) -> None:
        self.status, self.code = 406, "not-supported"
        super().__post_init__()


class Conflict(FhirError):
    """409: the request conflicts with the current state (e.g. a concurrent write)."""

    def __post_init__(self) -> None:
        self.status, self.code = 409, "conflict"
        super().__post_init__()


class PreconditionFailed(FhirError):
    """412: If-Match did not match, or a conditional matched more than one resource."""

    def __post_init__(self) -> None:
        self.status, self.code = 412, "conflict"
        super().__post_init__()


class PayloadTooLarge(FhirError):
    """413: the body exceeds the configured limit."""

    def __post_init__(self) -> None:
        self.status, self.code = 413, "too-costly"
        super().__post_init__()


class UnsupportedMediaType(FhirError):
    """415: the body is not in a format the server reads."""

    def __post_init__(self) -> None:
        self.status, self.code = 415, "not-supported"
        super().__post_init__()


class Unprocessable(FhirError):
    """422: valid FHIR that breaks a business rule or profile."""

    def __post_init__(self) -> None:
        self.status, self.code = 422, self.code if self.code != "processing" else "processing"
        super().__post_init__()


class Unauthorized(FhirError):
    """401: no or bad credentials."""

    def __post_init__(self) -> None:
        self.status, self.code = 401, "login"
        super().__post_init__()


class Forbidden(FhirError):
    """403: authenticated but not allowed."""

    def __post_init__(self) -> None:
        self.status, self.code = 403, "forbidden"
        super().__post_init__()


class ServiceUnavailable(FhirError):
    """503: a dependency (the database) is unreachable."""

    def __post_init__(self) -> None:
        self.status, self.code = 503, "transient"
        super().__post_init__()


class TooManyRequests(FhirError):
    """429: throttled; Retry-After says when to come back."""

    def __post_init__(self) -> None:
        self.status, self.code = 429, "throttled"
        super().__post_init__()
