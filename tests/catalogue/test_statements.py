"""What an offering event costs the catalogue's database, pinned (on SQLite): the listing
read once and written once; an older version read and left alone."""

from __future__ import annotations

from pathlib import Path

from services.catalogue import application
from services.catalogue.unit_of_work import CatalogueUnitOfWork
from tests.support.builders import offering_published, offering_withdrawn
from tests.support.sqlite import migrated_sqlite
from tests.support.statements import committed_statements


async def test_an_offering_event_is_one_read_and_one_write(tmp_path: Path) -> None:
    async with migrated_sqlite(tmp_path, "catalogue", CatalogueUnitOfWork) as units_of_work:
        published = offering_published("nordhavn")
        assert await committed_statements(
            units_of_work, lambda u: application.apply_offering_event(u, published)
        ) == ["SELECT offerings", "INSERT offerings"]
        withdrawn = offering_withdrawn(published, 2)
        assert await committed_statements(
            units_of_work, lambda u: application.apply_offering_event(u, withdrawn)
        ) == ["SELECT offerings", "UPDATE offerings"]
        assert await committed_statements(
            units_of_work, lambda u: application.apply_offering_event(u, published)
        ) == ["SELECT offerings"]
