"""What a use case says when it will not do what was asked, in the alliance's terms.

Application code raises these (or a service's own subclasses, defined in its domain module);
it never raises HTTP problems or the consumer runtime's exceptions. The entry points translate
them in one place each: the API into problem details (`shared.problems`), the consumer into
refusal (dead-letter topic) or deferral (`shared.messaging.consumer`).
"""

from __future__ import annotations


class DomainError(Exception):
    """A request or event the domain refuses; `str(error)` says why, for people, and `title`
    names the kind of refusal in a problem detail (the HTTP status phrase when None)."""

    title: str | None = None


class NotFound(DomainError):
    """What the request is about does not exist (HTTP 404; an event is refused)."""


class NotPermitted(DomainError):
    """The caller may not do this to what it names (HTTP 403; an event is refused)."""


class Conflict(DomainError):
    """It contradicts the current state (HTTP 409; an event is refused)."""


class Stale(Conflict):
    """The caller changes a version that is no longer the current one (HTTP 412)."""


class LostRace(Conflict):
    """A concurrent change came first; the use case is worth running again on fresh state
    (`shared.db.uow.run_committed` does, a few times)."""

    title = "Concurrent change"


class Invalid(DomainError):
    """It breaks a rule of the domain whatever the state (HTTP 422; an event is refused)."""


class NotYet(DomainError):
    """It depends on a fact not known yet (HTTP 409; an event waits until the fact is
    released, see `UnitOfWork.release`). `waiting_for` names the fact, e.g. `enrolment:enr-1`."""

    def __init__(self, waiting_for: str, reason: str) -> None:
        super().__init__(reason)
        self.waiting_for = waiting_for
        self.reason = reason
