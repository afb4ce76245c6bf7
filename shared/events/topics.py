"""Kafka topic names and the payload field each topic is keyed by.

The key is the entity whose events must stay in order: an offering's versions, or everything
that happens to one learner.
"""

OFFERINGS = "alliance.offerings"
ENROLMENTS = "alliance.enrolments"
RESULTS = "alliance.results"
CREDENTIALS = "alliance.credentials"
PATHWAYS = "alliance.pathways"
PATHWAY_DEFINITIONS = "alliance.pathway-definitions"
RECOGNITIONS = "alliance.recognitions"

TOPIC_KEY_FIELD: dict[str, str] = {
    OFFERINGS: "offering_id",
    ENROLMENTS: "learner_id",
    RESULTS: "learner_id",
    CREDENTIALS: "learner_id",
    PATHWAYS: "learner_id",
    PATHWAY_DEFINITIONS: "pathway_id",
    RECOGNITIONS: "learner_id",
}
