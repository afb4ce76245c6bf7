"""Recognition's unit of work: its repositories over one transaction."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.recognition.repository import (
    Completions,
    CredentialLedger,
    KeptWrites,
    Learners,
    Offerings,
    PathwayDefinitions,
    ProgressStore,
    Recognitions,
    RuleSets,
)
from shared.db.uow import UnitOfWork


class RecognitionUnitOfWork(UnitOfWork):
    credentials: CredentialLedger
    learners: Learners
    pathways: PathwayDefinitions
    progress: ProgressStore
    completions: Completions
    offerings: Offerings
    rule_sets: RuleSets
    recognitions: Recognitions

    def _open(self, session: AsyncSession) -> None:
        self._kept = KeptWrites(session)
        self.credentials = CredentialLedger(session, self._kept)
        self.learners = Learners(session, self._kept)
        self.pathways = PathwayDefinitions(session)
        self.progress = ProgressStore(session, self._kept)
        self.completions = Completions(session, self._kept)
        self.offerings = Offerings(session)
        self.rule_sets = RuleSets(session)
        self.recognitions = Recognitions(session)

    async def _write_kept(self) -> None:
        await self._kept.write()
