"""Accounts and profiles: the business rules over the relational store.

Used by the API's routers and, through tool definitions, by the agent. Every
write is one transaction: a request either changes everything it asked for or
nothing, and the event announcing it is written through the outbox in the same
transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.events import Topic
from storage.sql import Database
from storage.sql.models import Profile, RefreshToken, User
from storage.sql.outbox import add_event
from storage.sql.types import utcnow
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
    UserUpdateMe,
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


class LastAdmin(AccountError):
    """Refused because it would leave no active admin, and so nobody able to grant roles."""


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

    def get_by_email(self, email: str) -> UserRead | None:
        with self.db.session() as session:
            user = session.scalar(select(User).where(User.email == _normalise_email(email)))
            return UserRead.model_validate(user) if user is not None else None

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
                items=[UserRead.model_validate(u) for u in rows],
                total=total,
                offset=offset,
                limit=limit,
            )

    def update_user(self, user_id: str, update: AdminUserUpdate) -> UserRead:
        """Change name, role or active flag; a new role or a disabled account ends its sign-ins."""
        changes = update.model_dump(exclude_unset=True)
        for field in ("role", "is_active"):
            if field in changes and changes[field] is None:
                raise InvalidProfile(f"{field} cannot be null")
        with self.db.session() as session:
            user = self._user(session, user_id, lock=True)
            loses_admin = user.role == Role.admin.value and (
                changes.get("is_active") is False or changes.get("role", Role.admin) != Role.admin
            )
            if loses_admin and user.is_active and self._active_admins(session) <= 1:
                raise LastAdmin("this is the last active admin; make someone else admin first")
            role_changed = "role" in changes and changes["role"].value != user.role
            for field, value in changes.items():
                setattr(user, field, value.value if isinstance(value, Role) else value)
            if role_changed or changes.get("is_active") is False:
                revoke_refresh_tokens(session, RefreshToken.user_id == user_id)
            session.flush()
            return UserRead.model_validate(user)

    def update_me(self, user_id: str, update: UserUpdateMe) -> UserRead:
        """A person's own name or password; a new password ends every sign-in in the same transaction."""
        with self.db.session() as session:
            # The row lock orders this against a concurrent token refresh (api.tokens locks it too),
            # so a refresh cannot slip a new token past the revocation.
            user = self._user(session, user_id, lock=True)
            if update.new_password is not None:
                if not verify_password(update.current_password or "", user.hashed_password):
                    raise WrongPassword("current_password is not correct")
                user.hashed_password = hash_password(update.new_password)
                revoke_refresh_tokens(session, RefreshToken.user_id == user_id)
            if "full_name" in update.model_fields_set:
                user.full_name = update.full_name
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

    def count_active_admins(self) -> int:
        with self.db.session() as session:
            return self._active_admins(session)

    @staticmethod
    def _active_admins(session: Session) -> int:
        query = select(func.count()).where(User.role == Role.admin.value, User.is_active.is_(True))
        return session.scalar(query) or 0

    @staticmethod
    def _user(session: Session, user_id: str, *, lock: bool = False) -> User:
        user = session.get(User, user_id, with_for_update=lock)
        if user is None:
            raise NotFound(f"no user with id {user_id}")
        return user


def revoke_refresh_tokens(session: Session, scope: ColumnElement[bool]) -> None:
    """Revoke live refresh tokens matching ``scope`` (a user, a family) in the caller's transaction."""
    session.execute(
        update(RefreshToken).where(scope, RefreshToken.revoked_at.is_(None)).values(revoked_at=utcnow())
    )


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
            if (profile.budget_min, profile.budget_max) != (None, None) and profile.budget_currency is None:
                profile.budget_currency = "CNY"  # the documented default when no currency was ever given
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
            if budget is None:  # null clears the whole budget
                changes.update(budget_min=None, budget_max=None, budget_currency=None)
            else:  # like the rest of the profile, only the parts given change
                for part in budget.model_fields_set:
                    changes[f"budget_{part}"] = getattr(budget, part)
        if "preferred_units" in given:
            units = update.preferred_units
            if units is None or any(getattr(units, f) is None for f in units.model_fields_set):
                raise InvalidProfile("preferred units cannot be cleared; choose cm or in, kg or lb")
            for part in units.model_fields_set:
                changes[f"{part}_unit"] = getattr(units, part).value
        if "consents" in given:
            consents = update.consents
            if consents is None or any(getattr(consents, f) is None for f in consents.model_fields_set):
                raise InvalidProfile("consents cannot be null; answer each one with true or false")
            changes["consents"] = {f: getattr(consents, f) for f in consents.model_fields_set}
        return changes

    @staticmethod
    def _check_whole(profile: Profile) -> None:
        """Rules across fields, checked on the merged profile (old values plus the update)."""
        low, high = profile.budget_min, profile.budget_max
        if low is not None and high is not None and low > high:
            raise InvalidProfile(f"budget min {low:g} is above max {high:g}")
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
