"""Recognition's HTTP API: a learner's credentials and progress on every pathway; pathway
definitions (public; partners define their own); partners' recognition rules; recognition
requests (learners ask, the recognising partner's staff decide what the rules cannot)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.recognition import application
from services.recognition.application import PathwayReport
from services.recognition.domain import (
    PathwayNotFound,
    PublishedRules,
    Recognition,
    RecognitionNotFound,
    RuleSet,
)
from services.recognition.unit_of_work import RecognitionUnitOfWork
from shared.auth import Caller, Learner, PartnerCaller, PartnerStaff
from shared.db.uow import UnitOfWorkFactory, run_committed
from shared.events import RecognitionDecision
from shared.events.pathways import PathwayCriteria, PathwayDefined
from shared.events.vocabulary import (
    CredentialId,
    MultilingualText,
    NonEmptyUnique,
    PartnerId,
    PathwayId,
    ShortText,
    Text,
)
from shared.problems import Problem, problem_responses
from shared.registry import AllianceRegistry, Unauthorised

PATHWAY_ID = r"^pth-[a-z0-9-]{4,64}$"
RECOGNITION_ID = r"^rec-[a-z0-9-]{4,64}$"
PARTNER_ID = r"^[a-z][a-z0-9-]{1,31}$"

Status = Literal["pending", "recognised", "refused", "withdrawn"]


class CredentialView(BaseModel):
    credential_id: str
    offering_id: str | None
    pathway_id: str | None
    awarding_partner_id: str
    title: dict[str, str]
    ects: float
    eqf_level: int
    issued_at: dt.datetime
    counts: bool
    revocation_reason: str | None
    suspended_at: dt.datetime | None = Field(
        default=None, description="While suspended, the credential counts towards no pathway."
    )


class PathwayDraft(BaseModel):
    """A pathway definition as its owner sends it; the version is the service's to give."""

    model_config = ConfigDict(extra="forbid")

    pathway_id: PathwayId
    owner_partner_id: PartnerId
    title: MultilingualText
    description: MultilingualText
    criteria: PathwayCriteria


class CountedCredential(BaseModel):
    credential_id: str
    offering_id: str | None
    awarding_partner_id: str
    title: dict[str, str]
    ects: float
    eqf_level: int
    issued_at: dt.datetime


class NotCounted(BaseModel):
    credential_id: str
    title: dict[str, str]
    reason: str


class SuggestedOffering(BaseModel):
    offering_id: str
    partner_id: str
    title: dict[str, str]
    ects: float
    eqf_level: int
    why: str


class ProgressView(BaseModel):
    pathway_id: str
    pathway_version: int
    owner_partner_id: str
    title: dict[str, str]
    status: str = Field(
        description="in_progress, complete (stacked credential being issued), "
        "credential_issued, or completion_revoked (see notice)."
    )
    complete: bool
    ects_earned: float
    ects_required: float
    partners_counted: list[str]
    partners_required: int
    counted: list[CountedCredential] = Field(description="What counts.")
    not_counted: list[NotCounted] = Field(description="What does not count, and why.")
    missing: list[str] = Field(description="What is missing, in words.")
    would_complete: list[SuggestedOffering] = Field(
        description="Open offerings, at which partners, that would close a gap."
    )
    stacked_credential_id: str | None
    notice: str | None = Field(description="Why a stacked credential was revoked.")


class RuleSetView(BaseModel):
    partner_id: str
    version: int
    updated_at: dt.datetime | None
    rules: RuleSet


class RecognitionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credential_id: CredentialId
    recognising_partner_id: PartnerId
    programme: ShortText = Field(description="The recognising partner's programme.")


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: RecognitionDecision
    reasons: NonEmptyUnique[Text]


class RecognitionView(BaseModel):
    recognition_id: str
    learner_id: str
    credential_id: str
    recognising_partner_id: str
    programme: str
    status: Status
    automatic: bool | None
    reasons: list[str]
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    withdrawn_at: dt.datetime | None


def _progress_view(report: PathwayReport) -> ProgressView:
    definition, progress = report.definition, report.progress
    return ProgressView(
        pathway_id=definition.pathway_id,
        pathway_version=definition.version,
        owner_partner_id=definition.owner_partner_id,
        title=dict(definition.title),
        status=report.status,
        complete=progress.complete,
        ects_earned=progress.ects_earned,
        ects_required=progress.ects_required,
        partners_counted=list(progress.partners_counted),
        partners_required=definition.criteria.min_partners,
        counted=[
            CountedCredential(
                credential_id=c.credential_id,
                offering_id=c.offering_id,
                awarding_partner_id=c.awarding_partner_id,
                title=c.title,
                ects=c.ects,
                eqf_level=c.eqf_level,
                issued_at=c.issued_at,
            )
            for c in progress.counted
        ],
        not_counted=[
            NotCounted(credential_id=c.credential_id, title=c.title, reason=reason)
            for c, reason in progress.not_counted
        ],
        missing=list(progress.missing),
        would_complete=[
            SuggestedOffering(
                offering_id=s.offering.offering_id,
                partner_id=s.offering.partner_id,
                title=s.offering.title,
                ects=s.offering.ects,
                eqf_level=s.offering.eqf_level,
                why=s.why,
            )
            for s in report.suggestions
        ],
        stacked_credential_id=report.stacked_credential_id,
        notice=report.notice,
    )


def _recognition_view(recognition: Recognition) -> RecognitionView:
    return RecognitionView(
        recognition_id=recognition.recognition_id,
        learner_id=recognition.learner_id,
        credential_id=recognition.credential_id,
        recognising_partner_id=recognition.recognising_partner_id,
        programme=recognition.programme,
        status=recognition.status,
        automatic=recognition.automatic,
        reasons=list(recognition.reasons),
        requested_at=recognition.requested_at,
        decided_at=recognition.decided_at,
        withdrawn_at=recognition.withdrawn_at,
    )


def _rules_view(published: PublishedRules) -> RuleSetView:
    return RuleSetView(
        partner_id=published.partner_id,
        version=published.version,
        updated_at=published.updated_at,
        rules=published.rules,
    )


def build_router(
    units_of_work: UnitOfWorkFactory[RecognitionUnitOfWork],
    registry: AllianceRegistry,
    source: str,
) -> APIRouter:
    router = APIRouter()

    def known_partner(partner_id: str) -> None:
        if partner_id not in registry.partners:
            raise Problem(404, "Partner not found", f"{partner_id} is not an alliance partner.")

    # --- credentials and progress (learners) ---------------------------------------------

    @router.get(
        "/credentials",
        tags=["progress"],
        summary="The caller's credentials, as recognition counts them",
        responses=problem_responses(401, 403),
    )
    async def my_credentials(caller: Learner) -> list[CredentialView]:
        async with units_of_work() as uow:
            held = await uow.credentials.of_learner(str(caller.learner_id))
        return [
            CredentialView(
                credential_id=c.credential_id,
                offering_id=c.offering_id,
                pathway_id=c.pathway_id,
                awarding_partner_id=c.awarding_partner_id,
                title=c.title,
                ects=c.ects,
                eqf_level=c.eqf_level,
                issued_at=c.issued_at,
                counts=c.counts and c.suspended_at is None,
                revocation_reason=c.revocation_reason,
                suspended_at=c.suspended_at,
            )
            for c in held
        ]

    @router.get(
        "/progress",
        tags=["progress"],
        summary="The caller's progress on every pathway: what counts, what is missing, and "
        "which offerings would complete it",
        responses=problem_responses(401, 403),
    )
    async def my_progress(caller: Learner) -> list[ProgressView]:
        async with units_of_work() as uow:
            reports = await application.learner_progress(uow, str(caller.learner_id))
        return [_progress_view(r) for r in reports]

    @router.get(
        "/progress/{pathway_id}",
        tags=["progress"],
        summary="The caller's progress on one pathway",
        responses=problem_responses(401, 403, 404),
    )
    async def my_progress_on(
        caller: Learner, pathway_id: Annotated[str, Path(pattern=PATHWAY_ID)]
    ) -> ProgressView:
        async with units_of_work() as uow:
            reports = await application.learner_progress(uow, str(caller.learner_id), pathway_id)
        if not reports:
            raise PathwayNotFound(f"No pathway {pathway_id}.")
        return _progress_view(reports[0])

    # --- pathway definitions -------------------------------------------------------------

    @router.get("/pathways", tags=["pathways"], summary="Every pathway, at its newest version")
    async def pathways() -> list[PathwayDefined]:
        async with units_of_work() as uow:
            return list(await uow.pathways.all_current())

    @router.get(
        "/pathways/{pathway_id}",
        tags=["pathways"],
        summary="One pathway",
        responses=problem_responses(404),
    )
    async def get_pathway(
        pathway_id: Annotated[str, Path(pattern=PATHWAY_ID)],
    ) -> PathwayDefined:
        async with units_of_work() as uow:
            definition = await uow.pathways.current(pathway_id)
        if definition is None:
            raise PathwayNotFound(f"No pathway {pathway_id}.")
        return definition

    def entitled(caller: PartnerCaller, owner_partner_id: str) -> None:
        if not caller.acts_for(owner_partner_id):
            raise Problem(403, "Forbidden", f"Your token does not act for {owner_partner_id}.")
        try:
            # The check every consumer makes, so nothing is announced that they refuse.
            registry.authorise(source, "pathway.defined", owner_partner_id)
        except Unauthorised as exc:
            raise Problem(403, "Forbidden", str(exc)) from exc

    async def announce(
        draft: PathwayDraft, new: bool, expected_version: int | None = None
    ) -> PathwayDefined:
        return await run_committed(
            units_of_work,
            lambda uow: application.define_pathway(
                uow, draft.model_dump(), new=new, expected_version=expected_version
            ),
        )

    @router.post(
        "/pathways",
        status_code=201,
        tags=["pathways"],
        summary="Define a pathway (staff or system of the owning partner)",
        description="Announces `pathway.defined` version 1; learners' progress follows once "
        "recognition has read the event back (typically within a second).",
        responses=problem_responses(401, 403, 409),
    )
    async def define(
        caller: PartnerCaller, request: Request, response: Response, draft: PathwayDraft
    ) -> PathwayDefined:
        entitled(caller, draft.owner_partner_id)
        definition = await announce(draft, new=True)
        response.headers["Location"] = str(
            request.url_for("get_pathway", pathway_id=definition.pathway_id)
        )
        response.headers["ETag"] = f'"{definition.version}"'
        return definition

    @router.put(
        "/pathways/{pathway_id}",
        tags=["pathways"],
        summary="Change a pathway: its next version (its owner only)",
        description="Learners' progress is judged on the newest version; a completion "
        "reached under an earlier version keeps its stacked credential.",
        responses=problem_responses(401, 403, 404, 409, 412),
    )
    async def redefine(
        caller: PartnerCaller,
        response: Response,
        pathway_id: Annotated[str, Path(pattern=PATHWAY_ID)],
        draft: PathwayDraft,
        if_match: Annotated[str | None, Header(pattern=r'^(W/)?"[0-9]{1,9}"$')] = None,
    ) -> PathwayDefined:
        if draft.pathway_id != pathway_id:
            raise Problem(422, "Invalid request", "The body's pathway_id differs from the URL's.")
        entitled(caller, draft.owner_partner_id)
        expected = int(if_match.removeprefix("W/").strip('"')) if if_match else None
        definition = await announce(draft, new=False, expected_version=expected)
        response.headers["ETag"] = f'"{definition.version}"'
        return definition

    # --- recognition rules ---------------------------------------------------------------

    @router.get(
        "/recognition-rules/{partner_id}",
        tags=["recognition"],
        summary="The recognition rules a partner publishes",
        responses=problem_responses(404),
    )
    async def rules_of(partner_id: Annotated[str, Path(pattern=PARTNER_ID)]) -> RuleSetView:
        known_partner(partner_id)
        async with units_of_work() as uow:
            published = await uow.rule_sets.get(partner_id)
        return _rules_view(published)

    @router.put(
        "/recognition-rules/{partner_id}",
        tags=["recognition"],
        summary="Replace a partner's recognition rules (that partner's staff or system)",
        description="Applies to requests made from now on; pending requests stay with staff.",
        responses=problem_responses(401, 403, 404),
    )
    async def publish_rules(
        caller: PartnerCaller,
        partner_id: Annotated[str, Path(pattern=PARTNER_ID)],
        rules: RuleSet,
    ) -> RuleSetView:
        known_partner(partner_id)
        if not caller.acts_for(partner_id):
            raise Problem(403, "Forbidden", f"Your token does not act for {partner_id}.")
        published = await run_committed(
            units_of_work, lambda uow: application.publish_rules(uow, partner_id, rules)
        )
        return _rules_view(published)

    # --- recognition requests ------------------------------------------------------------

    @router.post(
        "/recognitions",
        status_code=201,
        tags=["recognition"],
        summary="Ask a partner to recognise one of the caller's credentials (learners)",
        description="Announces `recognition.requested`; where the partner's rules decide, "
        "also `recognition.decided` (automatic), otherwise the request waits for its staff.",
        responses=problem_responses(401, 403, 404, 409),
    )
    async def request_recognition(
        caller: Learner, request: Request, response: Response, body: RecognitionRequest
    ) -> RecognitionView:
        known_partner(body.recognising_partner_id)
        recognition = await run_committed(
            units_of_work,
            lambda uow: application.request_recognition(
                uow,
                str(caller.learner_id),
                body.credential_id,
                body.recognising_partner_id,
                body.programme,
            ),
        )
        response.headers["Location"] = str(
            request.url_for("get_recognition", recognition_id=recognition.recognition_id)
        )
        return _recognition_view(recognition)

    @router.get(
        "/recognitions",
        tags=["recognition"],
        summary="A learner's own requests, or those made to the caller's partner (staff)",
        responses=problem_responses(401),
    )
    async def recognitions(
        caller: Caller, status: Annotated[Status | None, Query()] = None
    ) -> list[RecognitionView]:
        async with units_of_work() as uow:
            found = await uow.recognitions.find(
                learner_id=caller.learner_id if caller.is_learner else None,
                partner_id=None if caller.is_learner else caller.partner_id,
                status=status,
            )
        return [_recognition_view(r) for r in found]

    @router.get(
        "/recognitions/{recognition_id}",
        tags=["recognition"],
        summary="One request (its learner, or the recognising partner)",
        responses=problem_responses(401, 404),
    )
    async def get_recognition(
        caller: Caller, recognition_id: Annotated[str, Path(pattern=RECOGNITION_ID)]
    ) -> RecognitionView:
        async with units_of_work() as uow:
            recognition = await uow.recognitions.get(recognition_id)
        visible = recognition is not None and (
            recognition.learner_id == caller.learner_id
            if caller.is_learner
            else caller.acts_for(recognition.recognising_partner_id)
        )
        if recognition is None or not visible:
            raise RecognitionNotFound(f"No recognition {recognition_id}.")
        return _recognition_view(recognition)

    @router.post(
        "/recognitions/{recognition_id}/decision",
        tags=["recognition"],
        summary="Decide a pending request (the recognising partner's staff)",
        description="Announces `recognition.decided` (not automatic) with the reasons given.",
        responses=problem_responses(401, 403, 404, 409),
    )
    async def decide(
        caller: PartnerStaff,
        recognition_id: Annotated[str, Path(pattern=RECOGNITION_ID)],
        body: DecisionBody,
    ) -> RecognitionView:
        recognition = await run_committed(
            units_of_work,
            lambda uow: application.decide_recognition(
                uow, recognition_id, str(caller.partner_id), body.decision, body.reasons
            ),
        )
        return _recognition_view(recognition)

    return router
