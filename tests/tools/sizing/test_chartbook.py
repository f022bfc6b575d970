"""Stored charts: brand over house override over built-in default, saved by upsert, on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.sql import Database
from storage.sql.models import SizeChart as SizeChartRow
from tools.profile.schemas import Department
from tools.sizing.chartbook import ChartBook, brand_key
from tools.sizing.charts import SizeChart, SizeRow, default_chart


def _chart(brand: str | None, source: str, shift: float = 0.0) -> SizeChart:
    return SizeChart(
        brand=brand,
        department=Department.women,
        group="top",
        system="letter",
        key="chest",
        sizes=[
            SizeRow(label=label, body={"chest": (low + shift, low + 4 + shift)})
            for label, low in (("S", 80.0), ("M", 84.0), ("L", 88.0))
        ],
        source=source,
    )


@pytest.fixture
def book(database: Database) -> ChartBook:
    return ChartBook(database)


def test_without_stored_charts_the_default_answers(book: ChartBook) -> None:
    assert book.lookup("Nike", Department.women, "top", "letter") == default_chart(
        Department.women, "top", "letter"
    )
    assert book.lookup(None, Department.women, "top", "one") is None
    assert book.list() == []


def test_brand_over_house_override_over_default(book: ChartBook) -> None:
    book.save(_chart(None, "house override"), actor_id=None)
    book.save(_chart("Roadster", "roadster's chart"), actor_id="admin-1")
    assert book.lookup("Roadster", "women", "top", "letter").source == "roadster's chart"  # type: ignore[arg-type, union-attr]
    assert book.lookup(" roadster ", Department.women, "top", "letter").source == "roadster's chart"  # type: ignore[union-attr]
    assert book.lookup("Nike", Department.women, "top", "letter").source == "house override"  # type: ignore[union-attr]
    assert book.lookup(None, Department.women, "top", "letter").source == "house override"  # type: ignore[union-attr]
    # other departments, groups and systems are untouched
    assert book.lookup("Roadster", Department.men, "top", "letter") == default_chart(
        Department.men, "top", "letter"
    )
    assert book.lookup("Roadster", Department.women, "dress", "letter") == default_chart(
        Department.women, "dress", "letter"
    )
    assert book.delete("ROADSTER", Department.women, "top", "letter")
    assert book.lookup("Roadster", Department.women, "top", "letter").source == "house override"  # type: ignore[union-attr]
    assert book.delete(None, Department.women, "top", "letter")
    assert not book.delete(None, Department.women, "top", "letter")
    assert book.lookup("Roadster", Department.women, "top", "letter") == default_chart(
        Department.women, "top", "letter"
    )


def test_save_is_an_upsert(book: ChartBook, database: Database) -> None:
    book.save(_chart("Roadster", "first"), actor_id="admin-1")
    saved = book.save(_chart("  ROADSTER ", "second", shift=2), actor_id="admin-2")
    assert saved.brand == "ROADSTER"
    with database.session() as session:
        rows = session.scalars(select(SizeChartRow)).all()
        assert len(rows) == 1
        assert rows[0].brand_key == "roadster"
        assert rows[0].updated_by == "admin-2"
    chart = book.lookup("roadster", Department.women, "top", "letter")
    assert chart is not None
    assert chart.source == "second"
    assert chart.midpoint("M", "chest") == 88.0
    assert chart.row("m") is chart.sizes[1]


def test_list_stored_charts(book: ChartBook, database: Database) -> None:
    book.save(_chart(None, "house"), actor_id=None)
    book.save(_chart("Roadster", "r"), actor_id=None)
    book.save(_chart("Nike", "n"), actor_id=None)
    assert [c.source for c in book.list()] == ["house", "n", "r"]
    assert [c.source for c in book.list("nike")] == ["n"]
    assert [c.source for c in book.list("")] == ["house"]
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(SizeChartRow)) == 3


def test_brand_key() -> None:
    assert brand_key("  Allen   Solly ") == "allen solly"
    assert brand_key(None) == brand_key("") == brand_key("   ") == ""
