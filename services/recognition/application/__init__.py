"""Recognition's use cases, as functions taking the unit of work first: following learners
along pathways (`pathways`), recognition between partners (`recognitions`) and the
credential events that move both (`credentials`)."""

from services.recognition.application.credentials import (
    credential_issued,
    credential_reinstated,
    credential_revoked,
    credential_suspended,
    credentials_coming,
)
from services.recognition.application.pathways import (
    PathwayReport,
    apply_offering_event,
    define_pathway,
    learner_progress,
    pathway_defined,
)
from services.recognition.application.recognitions import (
    decide_recognition,
    publish_rules,
    request_recognition,
)

__all__ = [
    "PathwayReport",
    "apply_offering_event",
    "credential_issued",
    "credential_reinstated",
    "credential_revoked",
    "credential_suspended",
    "credentials_coming",
    "decide_recognition",
    "define_pathway",
    "learner_progress",
    "pathway_defined",
    "publish_rules",
    "request_recognition",
]
