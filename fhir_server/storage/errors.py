"""What a database error means, for the layers above storage (which never import the driver).

`DatabaseError` is the base of every error the database driver raises: catch it where a
database failure is expected and handled (import chunks, readiness). The predicates classify
any exception for the single error handler: unreachable (503 + Retry-After) or another
database error (500).
"""

from __future__ import annotations

from pymongo.errors import ConnectionFailure, PyMongoError

DatabaseError = PyMongoError
TRANSIENT_TRANSACTION = "TransientTransactionError"

__all__ = ["DatabaseError", "is_database_error", "is_database_unavailable",
           "is_transient_transaction_error"]


def is_database_unavailable(exc: BaseException) -> bool:
    """True when the database cannot be reached (no server, network, timeout)."""
    return isinstance(exc, ConnectionFailure)


def is_database_error(exc: BaseException) -> bool:
    """True for any error raised by the database driver (unreachable included)."""
    return isinstance(exc, PyMongoError)


def is_transient_transaction_error(exc: BaseException) -> bool:
    """True when the transaction failed for a reason that a re-run may not meet (a conflict)."""
    return isinstance(exc, PyMongoError) and exc.has_error_label(TRANSIENT_TRANSACTION)
