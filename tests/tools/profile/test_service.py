"""Account and profile rules, run on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.sql import Database
from storage.sql.models import OutboxEvent
from tools.profile.schemas import AdminUserUpdate, Locale, ProfileUpdate, Role, UserUpdateMe
from tools.profile.service import (
    AccountService,
    EmailTaken,
    InvalidProfile,
    LastAdmin,
    NotFound,
    ProfileService,
    WrongPassword,
)


@pytest.fixture
def accounts(database: Database) -> AccountService:
    return AccountService(database)


@pytest.fixture
def profiles(database: Database) -> ProfileService:
    return ProfileService(database)


def test_create_and_authenticate(accounts: AccountService) -> None:
    user = accounts.create_user(email=" Mei@Example.com ", password="s3cret-password", full_name="李梅")
    assert user.email == "mei@example.com"
    assert user.role is Role.user
    assert accounts.authenticate("MEI@example.com", "s3cret-password") == user
    assert accounts.authenticate("mei@example.com", "wrong-password") is None
    assert accounts.authenticate("nobody@example.com", "s3cret-password") is None


def test_emails_are_unique_case_insensitively(accounts: AccountService) -> None:
    accounts.create_user(email="a@example.com", password="password-1")
    with pytest.raises(EmailTaken, match="already exists"):
        accounts.create_user(email="A@EXAMPLE.COM", password="password-2")


def test_disabled_accounts_cannot_sign_in(accounts: AccountService) -> None:
    user = accounts.create_user(email="b@example.com", password="password-1")
    accounts.update_user(user.id, AdminUserUpdate(is_active=False))
    assert accounts.authenticate("b@example.com", "password-1") is None


def test_password_change_needs_the_current_password(accounts: AccountService) -> None:
    user = accounts.create_user(email="c@example.com", password="password-1")
    with pytest.raises(WrongPassword):
        accounts.update_me(user.id, UserUpdateMe(current_password="nope", new_password="password-2"))
    accounts.update_me(user.id, UserUpdateMe(current_password="password-1", new_password="password-2"))
    assert accounts.authenticate("c@example.com", "password-2") is not None
    assert accounts.authenticate("c@example.com", "password-1") is None


def test_list_users_filters_and_pages(accounts: AccountService) -> None:
    for i in range(5):
        accounts.create_user(email=f"u{i}@example.com", password="password-1")
    accounts.create_user(email="staff@example.com", password="password-1", role=Role.support)
    page = accounts.list_users(offset=2, limit=2)
    assert page.total == 6
    assert len(page.items) == 2
    assert [u.email for u in accounts.list_users(role=Role.support).items] == ["staff@example.com"]
    assert accounts.list_users(email_contains="U3").total == 1
    # LIKE wildcards in the filter are literal characters
    assert accounts.list_users(email_contains="%").total == 0


def test_new_users_have_an_empty_profile_in_their_locale(
    accounts: AccountService, profiles: ProfileService
) -> None:
    user = accounts.create_user(email="zh@example.com", password="password-1", locale=Locale.zh)
    profile = profiles.get(user.id)
    assert profile.locale == "zh"
    assert profile.height_cm is None
    assert profile.consents.model_dump() == {
        "store_photos": False,
        "use_measurements": False,
        "personalisation": False,
        "marketing": False,
    }


def test_profile_update_normalises_and_merges(accounts: AccountService, profiles: ProfileService) -> None:
    user = accounts.create_user(email="p@example.com", password="password-1")
    profiles.update(
        user.id,
        ProfileUpdate.model_validate(
            {
                "measurements": {
                    "height": {"value": 65, "unit": "in"},
                    "weight": {"value": 120, "unit": "lb"},
                },
                "fit_preference": "slim",
                "consents": {"use_measurements": True},
                "preferred_units": {"length": "in", "weight": "lb"},
            }
        ),
    )
    profile = profiles.update(
        user.id,
        ProfileUpdate.model_validate(
            {"measurements": {"waist": 70}, "consents": {"marketing": False}, "budget": {"max": 800}}
        ),
    )
    assert profile.height_cm == 165.1
    assert profile.weight_kg == 54.43
    assert profile.waist_cm == 70
    assert profile.fit_preference == "slim"
    assert profile.preferred_units.length == "in"
    assert profile.budget.max == 800
    assert profile.budget.currency == "CNY"
    # consents merge: the second update did not withdraw the first
    assert profile.consents.use_measurements is True
    assert profile.consents.marketing is False


def test_null_clears_a_field(accounts: AccountService, profiles: ProfileService) -> None:
    user = accounts.create_user(email="n@example.com", password="password-1")
    profiles.update(
        user.id, ProfileUpdate.model_validate({"body_shape": "pear", "measurements": {"hips": 98}})
    )
    profile = profiles.update(user.id, ProfileUpdate.model_validate({"body_shape": None}))
    assert profile.body_shape is None
    assert profile.hips_cm == 98


def test_an_implausible_combination_writes_nothing(
    accounts: AccountService, profiles: ProfileService, database: Database
) -> None:
    user = accounts.create_user(email="bmi@example.com", password="password-1")
    profiles.update(user.id, ProfileUpdate.model_validate({"measurements": {"height": 170}}))
    with database.session() as session:
        events_before = len(session.scalars(select(OutboxEvent)).all())
    # 300 lb entered as kg: each value is in range alone, together BMI ~ 104
    with pytest.raises(InvalidProfile, match="BMI"):
        profiles.update(
            user.id,
            ProfileUpdate.model_validate({"measurements": {"weight": 300}, "fit_preference": "loose"}),
        )
    profile = profiles.get(user.id)
    assert profile.weight_kg is None
    assert profile.fit_preference is None
    with database.session() as session:
        assert len(session.scalars(select(OutboxEvent)).all()) == events_before


def test_profile_updates_announce_field_names_not_values(
    accounts: AccountService, profiles: ProfileService, database: Database
) -> None:
    user = accounts.create_user(email="e@example.com", password="password-1")
    profiles.update(user.id, ProfileUpdate.model_validate({"measurements": {"chest": 92}, "locale": "zh"}))
    with database.session() as session:
        event = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "profile.updated")).one()
    assert event.topic == "user-behavior-events"
    assert event.key == user.id
    assert event.payload == {"user_id": user.id, "fields": ["chest_cm", "locale"]}


def test_locale_cannot_be_cleared(accounts: AccountService, profiles: ProfileService) -> None:
    user = accounts.create_user(email="l@example.com", password="password-1")
    with pytest.raises(InvalidProfile, match="locale"):
        profiles.update(user.id, ProfileUpdate.model_validate({"locale": None}))


def test_deleting_a_user_removes_the_profile(accounts: AccountService, profiles: ProfileService) -> None:
    user = accounts.create_user(email="x@example.com", password="password-1")
    accounts.delete_user(user.id)
    with pytest.raises(NotFound):
        profiles.get(user.id)
    with pytest.raises(NotFound):
        accounts.get_user(user.id)


def test_a_colour_cannot_be_avoided_once_it_is_a_favourite(
    accounts: AccountService, profiles: ProfileService
) -> None:
    user = accounts.create_user(email="col@example.com", password="password-1")
    profiles.update(user.id, ProfileUpdate.model_validate({"favourite_colours": ["Navy", "white"]}))
    with pytest.raises(InvalidProfile, match="both favourite and avoided: navy"):
        profiles.update(user.id, ProfileUpdate.model_validate({"avoided_colours": ["navy"]}))
    assert profiles.get(user.id).avoided_colours == []


def test_the_last_active_admin_keeps_the_role(accounts: AccountService) -> None:
    only = accounts.create_user(email="root@example.com", password="password-1", role=Role.admin)
    with pytest.raises(LastAdmin):
        accounts.update_user(only.id, AdminUserUpdate(role=Role.user))
    with pytest.raises(LastAdmin):
        accounts.update_user(only.id, AdminUserUpdate(is_active=False))
    assert accounts.count_active_admins() == 1


def test_get_by_email_ignores_case_and_returns_none_when_missing(accounts: AccountService) -> None:
    created = accounts.create_user(email="Mei@Example.com", password="a-long-password")
    found = accounts.get_by_email("  mei@EXAMPLE.com ")
    assert found is not None
    assert found.id == created.id
    assert accounts.get_by_email("nobody@example.com") is None
