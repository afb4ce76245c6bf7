"""Which failures are worth another attempt: the same answer for the consumer's retries and
for a request's (`shared.db.uow.run_committed`)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from shared.errors import LostRace


class TransientError(Exception):
    """A failure worth retrying (a dependency that may come back)."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TransientError | LostRace | OperationalError | InterfaceError):
        return True
    if isinstance(exc, ConnectionError | TimeoutError | OSError):
        return True
    if isinstance(exc, DBAPIError):
        # Lost connections, serialization failures and deadlocks succeed when retried.
        sqlstate = getattr(exc.orig, "sqlstate", None)
        return exc.connection_invalidated or sqlstate in {"40001", "40P01"}
    return False
