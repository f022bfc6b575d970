"""Accounts and profiles: the business rules over the relational store.

Used by the API's routers and, through tool definitions, by the agent. Every
write is one transaction: a request either changes everything it asked for or
nothing, and the event announcing it is written through the outbox in the same
transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.events import Topic
from storage.sql import Database
from storage.sql.models import Profile, User
from storage.sql.outbox import add_event
from tools.profile.passwords import hash_password, needs_rehash, verify_password
from tools.profile.schemas import (
    BMI_RANGE,
    AdminUserUpdate,
    BudgetOut,
    ConsentsOut,
    Locale,
    PreferredUnits,
    ProfileRead,
    ProfileUpdate,
    Role,
    UserList,
    UserRead,
)

PROFILE_EVENTS_TOPIC = Topic.USER_BEHAVIOR_EVENTS


class AccountError(Exception):
    """Base for errors a caller can act on; the message is safe to show."""


class NotFound(AccountError):
    pass


class EmailTaken(AccountError):
    pass


class InvalidProfile(AccountError, ValueError):
    pass


class WrongPassword(AccountError):
    pass


def _normalise_email(email: str) -> str:
    return email.strip().lower()


class AccountService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create_user(
        self,
        *,
        email: str,
        password: str,
        full_name: str | None = None,
        role: Role = Role.user,
        locale: Locale = Locale.en,
    ) -> UserRead:
        user = User(
            email=_normalise_email(email),
            hashed_password=hash_password(password),
            full_name=full_name,
            role=role.value,
            profile=Profile(locale=locale.value),
        )
        try:
            with self.db.session() as session:
                session.add(user)
                session.flush()
                add_event(
                    session,
                    topic=PROFILE_EVENTS_TOPIC,
                    type="user.created",
                    key=user.id,
                    payload={"user_id": user.id, "role": user.role},
                )
                return UserRead.model_validate(user)
        except IntegrityError as exc:
            raise EmailTaken(f"an account with email {user.email} already exists") from exc

    def authenticate(self, email: str, password: str) -> UserRead | None:
        """The active user with these credentials, or None (same timing either way)."""
        with self.db.session() as session:
            user = session.scalar(select(User).where(User.email == _normalise_email(email)))
            if not verify_password(password, user.hashed_password if user else None):
                return None
            assert user is not None
            if not user.is_active:
                return None
            if needs_rehash(user.hashed_password):
                user.hashed_password = hash_password(password)
            return UserRead.model_validate(user)

    def get_user(self, user_id: str) -> UserRead:
        with self.db.session() as session:
            return UserRead.model_validate(self._user(session, user_id))

    def list_users(
        self, *, offset: int = 0, limit: int = 50, role: Role | None = None, email_contains: str | None = None
    ) -> UserList:
        with self.db.session() as session:
            query = select(User)
            if role is not None:
                query = query.where(User.role == role.value)
            if email_contains:
                query = query.where(User.email.contains(email_contains.lower(), autoescape=True))
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(query.order_by(User.created_at, User.id).offset(offset).limit(limit))
            return UserList(
                items=[UserRead.model_validate(u) for u in rows.unique()],
                total=total,
                offset=offset,
                limit=limit,
            )

    def update_user(self, user_id: str, update: AdminUserUpdate) -> UserRead:
        with self.db.session() as session:
            user = self._user(session, user_id)
            for field, value in update.model_dump(exclude_unset=True).items():
                if value is None and field in {"role", "is_active"}:
                    raise InvalidProfile(f"{field} cannot be null")
                setattr(user, field, value.value if isinstance(value, Role) else value)
            session.flush()
            return UserRead.model_validate(user)

    def update_me(
        self,
        user_id: str,
        *,
        full_name: str | None,
        set_full_name: bool,
        current_password: str | None,
        new_password: str | None,
    ) -> UserRead:
        with self.db.session() as session:
            user = self._user(session, user_id)
            if new_password is not None:
                if not verify_password(current_password or "", user.hashed_password):
                    raise WrongPassword("current_password is not correct")
                user.hashed_password = hash_password(new_password)
            if set_full_name:
                user.full_name = full_name
            session.flush()
            return UserRead.model_validate(user)

    def delete_user(self, user_id: str) -> None:
        """Delete the account and everything that cascades from it (profile, tokens)."""
        with self.db.session() as session:
            session.delete(self._user(session, user_id))
            add_event(
                session,
                topic=PROFILE_EVENTS_TOPIC,
                type="user.deleted",
                key=user_id,
                payload={"user_id": user_id},
            )

    def count_admins(self) -> int:
        with self.db.session() as session:
            return session.scalar(select(func.count()).where(User.role == Role.admin.value)) or 0

    @staticmethod
    def _user(session: Session, user_id: str) -> User:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(f"no user with id {user_id}")
        return user


def profile_read(profile: Profile) -> ProfileRead:
    consents = ConsentsOut.model_validate(profile.consents or {})
    return ProfileRead(
        user_id=profile.user_id,
        height_cm=profile.height_cm,
        weight_kg=profile.weight_kg,
        chest_cm=profile.chest_cm,
        waist_cm=profile.waist_cm,
        hips_cm=profile.hips_cm,
        inseam_cm=profile.inseam_cm,
        shoulder_cm=profile.shoulder_cm,
        shoe_size_eu=profile.shoe_size_eu,
        body_shape=profile.body_shape,
        fit_preference=profile.fit_preference,
        department=profile.department,
        styles=profile.styles,
        favourite_colours=profile.favourite_colours,
        avoided_colours=profile.avoided_colours,
        budget=BudgetOut(min=profile.budget_min, max=profile.budget_max, currency=profile.budget_currency),
        home_city=profile.home_city,
        locale=profile.locale,
        preferred_units=PreferredUnits(length=profile.length_unit, weight=profile.weight_unit),
        consents=consents,
        updated_at=profile.updated_at,
    )


class ProfileService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, user_id: str) -> ProfileRead:
        with self.db.session() as session:
            return profile_read(self._profile(session, user_id))

    def update(self, user_id: str, update: ProfileUpdate) -> ProfileRead:
        """Apply a partial update atomically; nothing is written if any part is invalid."""
        changes = self._column_changes(update)
        with self.db.session() as session:
            profile = self._profile(session, user_id)
            for column, value in changes.items():
                # Consents merge: saying yes to one thing must not silently withdraw another.
                setattr(profile, column, {**profile.consents, **value} if column == "consents" else value)
            self._check_whole(profile)
            if changes:
                add_event(
                    session,
                    topic=PROFILE_EVENTS_TOPIC,
                    type="profile.updated",
                    key=user_id,
                    # Field names only: measurements are personal and do not travel on the bus.
                    payload={"user_id": user_id, "fields": sorted(changes)},
                )
            session.flush()
            return profile_read(profile)

    @staticmethod
    def _column_changes(update: ProfileUpdate) -> dict[str, Any]:
        given = update.model_fields_set
        changes: dict[str, Any] = {}
        if "measurements" in given:
            if update.measurements is None:
                changes.update(
                    dict.fromkeys(
                        [
                            "height_cm",
                            "weight_kg",
                            "chest_cm",
                            "waist_cm",
                            "hips_cm",
                            "inseam_cm",
                            "shoulder_cm",
                            "shoe_size_eu",
                        ]
                    )
                )
            else:
                normalised = update.measurements.normalised()
                for name in update.measurements.model_fields_set:
                    column = {"weight": "weight_kg", "shoe_size": "shoe_size_eu"}.get(name, f"{name}_cm")
                    changes[column] = normalised.get(column)
        for name in ("body_shape", "fit_preference", "department", "locale"):
            if name in given:
                value = getattr(update, name)
                if value is None and name == "locale":
                    raise InvalidProfile("locale cannot be cleared; choose zh or en")
                changes[name] = value.value if value is not None else None
        for name in ("styles", "favourite_colours", "avoided_colours"):
            if name in given:
                changes[name] = [str(v) for v in (getattr(update, name) or [])]
        if "home_city" in given:
            changes["home_city"] = update.home_city
        if "budget" in given:
            budget = update.budget
            changes["budget_min"] = budget.min if budget else None
            changes["budget_max"] = budget.max if budget else None
            changes["budget_currency"] = budget.currency if budget else None
        if "preferred_units" in given and update.preferred_units is not None:
            if update.preferred_units.length is not None:
                changes["length_unit"] = update.preferred_units.length.value
            if update.preferred_units.weight is not None:
                changes["weight_unit"] = update.preferred_units.weight.value
        if "consents" in given and update.consents is not None:
            changes["consents"] = {k: v for k, v in update.consents.model_dump().items() if v is not None}
        return changes

    @staticmethod
    def _check_whole(profile: Profile) -> None:
        """Rules across fields, checked on the merged profile (old values plus the update)."""
        if profile.height_cm and profile.weight_kg:
            bmi = profile.weight_kg / (profile.height_cm / 100) ** 2
            if not BMI_RANGE[0] <= bmi <= BMI_RANGE[1]:
                raise InvalidProfile(
                    f"height {profile.height_cm:g} cm with weight {profile.weight_kg:g} kg gives a BMI of "
                    f"{bmi:.1f}, outside {BMI_RANGE[0]:g}-{BMI_RANGE[1]:g}: please check the units"
                )
        if set(profile.favourite_colours) & set(profile.avoided_colours):
            both = ", ".join(sorted(set(profile.favourite_colours) & set(profile.avoided_colours)))
            raise InvalidProfile(f"colours cannot be both favourite and avoided: {both}")

    @staticmethod
    def _profile(session: Session, user_id: str) -> Profile:
        profile = session.get(Profile, user_id)
        if profile is None:
            raise NotFound(f"no profile for user {user_id}")
        return profile
