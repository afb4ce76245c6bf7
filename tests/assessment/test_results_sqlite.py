"""The results repository on SQLite: a result clashing with one a concurrent submission
committed first is found at the commit (a lost race: the use case runs again and sees it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.assessment.domain import ConcurrentResult, Result
from services.assessment.unit_of_work import AssessmentUnitOfWork
from tests.assessment.test_domain import NOW, submission
from tests.support.sqlite import migrated_sqlite


async def test_a_result_clashing_with_a_committed_one_is_a_lost_race_at_the_commit(
    tmp_path: Path,
) -> None:
    async with migrated_sqlite(tmp_path, "assessment", AssessmentUnitOfWork) as units_of_work:
        async with units_of_work() as uow:
            uow.results.add(Result(submission(), NOW))
            await uow.commit()
        # The same result_id, and a second current result for the same enrolment.
        for clash in (submission(), submission(result_id="res-0002")):
            async with units_of_work() as uow:
                uow.results.add(Result(clash, NOW))
                with pytest.raises(ConcurrentResult):
                    await uow.commit()
        async with units_of_work() as uow:
            # A correction marks the first and is added.
            assert await uow.results.supersede("res-0001", "res-0003")
            correction = submission(result_id="res-0003", supersedes_result_id="res-0001")
            uow.results.add(Result(correction, NOW))
            # A second correction of the same result is refused by the mark.
            assert not await uow.results.supersede("res-0001", "res-0004")
            await uow.commit()
        async with units_of_work() as uow:
            current = await uow.results.current_of("enr-0001")
            assert current is not None
            assert current.result_id == "res-0003"
