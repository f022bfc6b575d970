"""The tool registry and the profile tools, run on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import json

import pytest

from storage.sql import Database
from tools.base import Tool, ToolArgs, ToolContext, ToolResult
from tools.profile.schemas import Locale, ProfileUpdate
from tools.profile.service import AccountService, ProfileService
from tools.registry import ToolRegistry, ToolServices, default_registry


@pytest.fixture
def services(database: Database) -> ToolServices:
    return ToolServices(accounts=AccountService(database), profiles=ProfileService(database))


def _context(services: ToolServices, email: str, locale: Locale = Locale.en) -> ToolContext:
    user = services.accounts.create_user(email=email, password="password-1", locale=locale)
    return ToolContext(user_id=user.id, locale=locale, services=services)


def test_every_tool_has_a_precise_openai_schema() -> None:
    registry = default_registry()
    assert registry.names == [
        "get_profile",
        "update_profile",
        "search_products",
        "get_product",
        "check_stock",
        "price_history",
        "create_price_alert",
        "take_price_alert_notifications",
        "recommend_size",
        "record_fit_feedback",
        "recommend_outfit",
        "complete_the_look",
        "recommend_similar",
        "record_interaction",
        "add_wardrobe_item",
        "list_wardrobe",
        "tag_wardrobe_item",
        "suggest_outfit_from_wardrobe",
        "log_wear",
        "wardrobe_insights",
        "virtual_try_on",
        "tryon_job_status",
        "generate_outfit_image",
    ]
    for schema in registry.openai_schemas():
        function = schema["function"]
        assert len(function["description"]) > 80
        json.dumps(schema)  # serialisable for any OpenAI-compatible server
    update = registry.get("update_profile").openai_schema()["function"]["parameters"]
    assert set(update["required"]) == {"changes", "confirmed"}
    assert update["additionalProperties"] is False
    # closed sets are enums the model can see
    assert "slim" in json.dumps(update)
    wardrobe = json.dumps(registry.get("add_wardrobe_item").openai_schema())
    assert '"Tshirts"' in wardrobe
    assert '"Navy Blue"' in wardrobe


def test_duplicate_tool_names_are_refused() -> None:
    tool = default_registry().get("get_profile")
    with pytest.raises(ValueError, match="unique"):
        ToolRegistry((tool, tool))


def test_unknown_tools_and_bad_arguments_come_back_as_messages(services: ToolServices) -> None:
    registry = default_registry()
    context = _context(services, "a@example.com")
    unknown = registry.invoke("delete_everything", context, {})
    assert not unknown.ok
    assert "unknown tool 'delete_everything'" in (unknown.error or "")
    bad = registry.invoke("update_profile", context, {"changes": {"measurements": {"height": "tall"}}})
    assert not bad.ok
    assert "invalid arguments for update_profile" in (bad.error or "")
    assert "confirmed" in (bad.error or "")
    extra = registry.invoke("get_profile", context, {"user_id": "someone-else"})
    assert not extra.ok
    assert "Extra inputs are not permitted" in (extra.error or "")


def test_update_profile_asks_for_confirmation_first(services: ToolServices) -> None:
    registry = default_registry()
    context = _context(services, "b@example.com")
    changes = {"measurements": {"height": {"value": 5 * 12 + 7, "unit": "in"}, "weight": 60}}
    pending = registry.invoke("update_profile", context, {"changes": changes, "confirmed": False})
    assert not pending.ok
    assert "confirm" in (pending.error or "")
    assert pending.data["pending_changes"]["measurements"]["height"] == {"value": 67.0, "unit": "in"}
    assert services.profiles.get(context.user_id).height_cm is None
    saved = registry.invoke("update_profile", context, {"changes": changes, "confirmed": True})
    assert saved.ok, saved.error
    assert saved.data["changed"] == ["measurements"]
    assert "height 170.2 cm" in saved.facts
    assert "weight 60 kg" in saved.facts


def test_update_profile_explains_refusals(services: ToolServices) -> None:
    context = _context(services, "c@example.com")
    result = default_registry().invoke(
        "update_profile",
        context,
        {"changes": {"measurements": {"height": 170, "weight": 300}}, "confirmed": True},
    )
    assert not result.ok
    assert "not saved" in (result.error or "")
    assert "BMI" in (result.error or "")


def test_get_profile_states_facts_in_the_persons_language_and_units(services: ToolServices) -> None:
    context = _context(services, "zh@example.com", Locale.zh)
    services.profiles.update(
        context.user_id,
        ProfileUpdate.model_validate(
            {
                "measurements": {"height": 165, "waist": 66, "shoe_size": 38},
                "preferred_units": {"length": "in"},
                "budget": {"max": 800},
                "favourite_colours": ["navy"],
            }
        ),
    )
    result = default_registry().invoke("get_profile", context, {})
    assert result.ok
    assert "身高 65 in (165 cm)" in result.facts
    assert "腰围 26 in (66 cm)" in result.facts
    assert "鞋码 EU 38" in result.facts
    assert "预算: 0-800 CNY" in result.facts
    assert "喜欢的颜色: navy" in result.facts
    assert result.cards[0].kind == "profile"
    assert result.data["complete"] is False


def test_tools_only_ever_touch_the_person_in_the_context(services: ToolServices) -> None:
    alice = _context(services, "alice@example.com")
    bob = _context(services, "bob@example.com")
    default_registry().invoke(
        "update_profile", alice, {"changes": {"measurements": {"height": 160}}, "confirmed": True}
    )
    assert services.profiles.get(bob.user_id).height_cm is None
    bob_view = default_registry().invoke("get_profile", bob, {})
    assert bob_view.data["profile"]["user_id"] == bob.user_id
    assert not any("160" in fact for fact in bob_view.facts)


def test_unexpected_errors_are_not_swallowed(services: ToolServices) -> None:
    class Args(ToolArgs):
        pass

    def broken(_: ToolContext, __: Args) -> ToolResult:
        raise RuntimeError("bug")

    tool: Tool[Args] = Tool(name="broken", description="x", args=Args, run=broken)
    with pytest.raises(RuntimeError):
        tool.invoke(_context(services, "d@example.com"), {})
