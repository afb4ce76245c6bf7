"""The fault suite's waits: a probe that fails while a part is down counts as not yet, and
so does a broker's "try again" (the group coordinator still loading after a restart);
anything else ends the row with its error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiokafka.errors import GroupLoadInProgressError, TopicAuthorizationFailedError

from faults.system import wait_for


async def test_a_broker_still_loading_its_groups_counts_as_not_yet() -> None:
    answers: Iterator[BaseException | bool] = iter(
        [GroupLoadInProgressError(), ConnectionRefusedError(), True]
    )

    async def condition() -> bool:
        answer = next(answers)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    assert await wait_for(condition, timeout_s=5)


async def test_a_broker_refusal_that_retrying_cannot_mend_ends_the_wait() -> None:
    async def condition() -> bool:
        raise TopicAuthorizationFailedError()

    with pytest.raises(TopicAuthorizationFailedError):
        await wait_for(condition, timeout_s=5)
