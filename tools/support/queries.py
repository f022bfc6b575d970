"""Read-only counts and look-ups for the support console and the admin view, one query each, so a
console that polls every few seconds costs the database little."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from storage.sql.database import Database
from storage.sql.models import ImageJob, Product, SupportNote, TryOnJob, User


def people(db: Database, user_ids: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """``{user id: (email, full name)}`` for the ids that still have an account."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    with db.session() as session:
        rows = session.execute(select(User.id, User.email, User.full_name).where(User.id.in_(wanted)))
        return {user_id: (email, name) for user_id, email, name in rows}


def accounts_per_role(db: Database) -> dict[str, dict[str, int]]:
    """``{role: {"active": n, "disabled": m}}``."""
    counts: dict[str, dict[str, int]] = {}
    with db.session() as session:
        rows = session.execute(
            select(User.role, User.is_active, func.count()).group_by(User.role, User.is_active)
        )
        for role, active, n in rows:
            counts.setdefault(role, {"active": 0, "disabled": 0})["active" if active else "disabled"] += n
    return counts


def jobs_by_status(db: Database) -> dict[str, dict[str, int]]:
    """``{"tryon": {status: n}, "image": {status: n}}`` over every job ever submitted."""
    result: dict[str, dict[str, int]] = {}
    with db.session() as session:
        for name, model in (("tryon", TryOnJob), ("image", ImageJob)):
            rows = session.execute(select(model.status, func.count()).group_by(model.status))
            result[name] = {str(status): int(n) for status, n in rows}
    return result


def product_count(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Product)) or 0)


def note_count(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(SupportNote)) or 0)
