"""Profiles: body measurements, fit and style preferences, budget, locale, consents."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser, ProfilesDep, ReadableUserId, WritableUserId
from tools.profile.schemas import ProfileRead, ProfileUpdate

router = APIRouter(tags=["profiles"])

_UPDATE_DOC = (
    "Partial update. Lengths are a number in cm or `{value, unit: cm|in}`; weight a number in kg or "
    "`{value, unit: kg|lb}`; shoe size a number in EU sizes or `{value, system: EU|UK|US_men|US_women|CN}`. "
    "Everything is stored in cm / kg / EU. Unknown fields, out-of-range values and impossible combinations "
    "are refused with 422 and nothing is written."
)


@router.get("/users/me/profile")
def read_my_profile(user: CurrentUser, profiles: ProfilesDep) -> ProfileRead:
    return profiles.get(user.id)


@router.patch("/users/me/profile", description=_UPDATE_DOC)
def update_my_profile(body: ProfileUpdate, user: CurrentUser, profiles: ProfilesDep) -> ProfileRead:
    return profiles.update(user.id, body)


@router.get("/users/{user_id}/profile")
def read_profile(user_id: ReadableUserId, profiles: ProfilesDep) -> ProfileRead:
    return profiles.get(user_id)


@router.patch("/users/{user_id}/profile", description=_UPDATE_DOC)
def update_profile(user_id: WritableUserId, body: ProfileUpdate, profiles: ProfilesDep) -> ProfileRead:
    return profiles.update(user_id, body)
