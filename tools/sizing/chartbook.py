"""Where a size chart comes from: an administrator's chart in the database, else the house default.

Lookup order for (brand, department, group, system): the brand's own stored chart,
then a stored override of the house default (brand key ""), then the built-in
``default_chart``. Brands are matched case- and space-insensitively, because the
catalogue's brand column is free text from feeds ("Nike", "NIKE ").
"""

from __future__ import annotations

import builtins

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from storage.sql import Database
from storage.sql.models import SizeChart as SizeChartRow
from storage.sql.types import utcnow
from tools.catalog.schemas import SizeSystem
from tools.profile.schemas import Department
from tools.sizing.charts import SizeChart, default_chart
from tools.sizing.schemas import GarmentGroup

HOUSE = ""


def brand_key(brand: str | None) -> str:
    """The stored key of a brand: lower case, single spaces; "" for the house default."""
    return " ".join((brand or "").split()).lower()


class ChartBook:
    """Size charts by brand, department, garment group and size system."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _stored(self, key: str, department: str, group: str, system: str) -> SizeChart | None:
        query = select(SizeChartRow.chart).where(
            SizeChartRow.brand_key == key,
            SizeChartRow.department == department,
            SizeChartRow.garment_group == group,
            SizeChartRow.size_system == system,
        )
        with self._db.session() as session:
            document = session.scalar(query)
        return None if document is None else SizeChart.model_validate(document)

    def lookup(
        self, brand: str | None, department: Department, group: GarmentGroup, system: SizeSystem
    ) -> SizeChart | None:
        """The chart advice should read: the brand's, else the stored house override, else the default."""
        department = Department(department)
        keys = [brand_key(brand), HOUSE] if brand_key(brand) else [HOUSE]
        for key in keys:
            chart = self._stored(key, department.value, group, system)
            if chart is not None:
                return chart
        return default_chart(department, group, system)

    def brands_with_charts(self) -> builtins.set[str]:
        """Brand keys that have a chart of their own (the house override's key "" excluded)."""
        with self._db.session() as session:
            keys = session.scalars(select(SizeChartRow.brand_key).distinct()).all()
        return {key for key in keys if key}

    def save(self, chart: SizeChart, actor_id: str | None) -> SizeChart:
        """Store a chart, replacing the one with the same brand, department, group and system."""
        key = brand_key(chart.brand)
        stored = chart.model_copy(
            update={"brand": " ".join(chart.brand.split()) if key and chart.brand else None}
        )
        document = stored.model_dump(mode="json")
        where = (
            SizeChartRow.brand_key == key,
            SizeChartRow.department == stored.department.value,
            SizeChartRow.garment_group == stored.group,
            SizeChartRow.size_system == stored.system,
        )
        # Two first saves of the same chart at once: the loser hits the unique key and updates instead.
        for attempt in range(2):
            try:
                with self._db.session() as session:
                    row = session.scalar(select(SizeChartRow).where(*where).with_for_update())
                    if row is None:
                        session.add(
                            SizeChartRow(
                                brand_key=key,
                                department=stored.department.value,
                                garment_group=stored.group,
                                size_system=stored.system,
                                chart=document,
                                updated_by=actor_id,
                            )
                        )
                    else:
                        row.chart = document
                        row.updated_by = actor_id
                        row.updated_at = utcnow()
                break
            except IntegrityError:
                if attempt:
                    raise
        return stored

    def delete(
        self, brand: str | None, department: Department, group: GarmentGroup, system: SizeSystem
    ) -> bool:
        """Remove a stored chart (the default then applies again); False when none was stored."""
        statement = delete(SizeChartRow).where(
            SizeChartRow.brand_key == brand_key(brand),
            SizeChartRow.department == Department(department).value,
            SizeChartRow.garment_group == group,
            SizeChartRow.size_system == system,
        )
        with self._db.session() as session:
            result = session.execute(statement)
            return bool(getattr(result, "rowcount", 0))

    def list(self, brand: str | None = None) -> builtins.list[SizeChart]:
        """Stored charts (the built-in defaults are not listed), all of them or one brand's.

        ``brand`` "" lists the house overrides.
        """
        query = select(SizeChartRow.chart).order_by(
            SizeChartRow.brand_key,
            SizeChartRow.department,
            SizeChartRow.garment_group,
            SizeChartRow.size_system,
        )
        if brand is not None:
            query = query.where(SizeChartRow.brand_key == brand_key(brand))
        with self._db.session() as session:
            documents = list(session.scalars(query))
        return [SizeChart.model_validate(document) for document in documents]
