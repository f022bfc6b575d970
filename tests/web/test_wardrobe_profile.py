"""The wardrobe and profile pages in a real browser: add clothes by photo and by hand, edit and
delete them, measurements in imperial units stored as cm/kg, the API's reasons shown, Chinese UI."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, FilePayload, Page, expect

from tests.web.conftest import REPO, LiveServer, WebUser, screenshot, sign_in

RED_TEE = REPO / "data" / "catalog" / "thumbnails" / "1529.jpg"
NOT_A_PHOTO = b"this is a shopping list, not a photo\n"
#: Cutting out and tagging a photo takes seconds, more on two busy cores (and the first loads the models).
RECOGNITION_MS = 90_000


def _token(live_server: LiveServer, user: WebUser) -> str:
    token: str = live_server.token(user.email)["access_token"]
    return token


def _items(live_server: LiveServer, user: WebUser) -> list[dict[str, Any]]:
    response = live_server.api("GET", "wardrobe/items", _token(live_server, user))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()
    return items


def _profile(live_server: LiveServer, user: WebUser) -> dict[str, Any]:
    response = live_server.api("GET", "users/me/profile", _token(live_server, user))
    assert response.status_code == 200, response.text
    profile: dict[str, Any] = response.json()
    return profile


def _open(page: Page, user: WebUser, where: str) -> None:
    sign_in(page, user)
    page.get_by_test_id(f"nav-{where}").click()
    expect(page.get_by_test_id(f"{where}-page")).to_be_visible()


def _fits_the_screen(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert width <= 0, f"the page scrolls sideways by {width}px"


@pytest.fixture(autouse=True)
def _photo_exists() -> None:
    assert RED_TEE.is_file(), f"{RED_TEE} is part of the shipped catalogue"


def test_add_by_photo_edit_wear_and_delete(
    page: Page, live_server: LiveServer, make_user: Callable[..., WebUser]
) -> None:
    user = make_user()
    _open(page, user, "wardrobe")
    expect(page.get_by_test_id("wardrobe-empty")).to_be_visible()

    # The words help recognition (the test settings have no image classifier, so they decide here).
    page.get_by_test_id("add-photo-caption").fill("red T-shirt")
    page.get_by_test_id("add-photo-input").set_input_files(str(RED_TEE))
    expect(page.get_by_test_id("upload-done")).to_be_visible(timeout=RECOGNITION_MS)
    card = page.get_by_test_id("wardrobe-item")
    expect(card).to_have_count(1)
    expect(card.locator("img[data-testid=item-photo]")).to_be_visible()  # the cut-out, fetched with the token
    stored = _items(live_server, user)
    assert len(stored) == 1, stored
    assert stored[0]["has_photo"]
    assert stored[0]["category"] == "Tshirts", stored
    assert stored[0]["colour"] == "Red", stored
    expect(card.get_by_test_id("item-card-category")).to_have_text("Tshirts")
    expect(card.get_by_test_id("item-card-colour")).to_have_text("Red")
    natural = card.locator("img[data-testid=item-photo]").evaluate("img => img.naturalWidth")
    assert natural > 0

    card.get_by_test_id("item-edit").click()
    sheet = page.get_by_test_id("item-sheet")
    expect(sheet.get_by_test_id("item-name")).to_have_value(stored[0]["name"])
    sheet.get_by_test_id("item-name").fill("Red race-day tee")
    sheet.get_by_test_id("item-tags").fill("weekend, favourite")
    sheet.get_by_test_id("item-season-summer").check()
    sheet.get_by_test_id("item-save").click()
    expect(sheet).to_have_count(0)
    expect(card.get_by_test_id("item-card-name")).to_have_text("Red race-day tee")
    [edited] = _items(live_server, user)
    assert edited["name"] == "Red race-day tee"
    assert sorted(edited["tags"]) == ["favourite", "weekend"]
    assert "summer" in edited["seasons"]

    card.get_by_test_id("item-worn").click()
    expect(page.get_by_test_id("toast")).to_contain_text("worn today")
    expect(page.get_by_test_id("insights-most-worn")).to_contain_text("Red race-day tee")
    insights = live_server.api("GET", "wardrobe/insights", _token(live_server, user)).json()
    assert insights["most_worn"][0]["wears"] == 1

    page.get_by_test_id("filter-tag").select_option("weekend")
    expect(card).to_have_count(1)
    page.get_by_test_id("filter-category").select_option("Jeans")
    expect(page.get_by_test_id("wardrobe-no-match")).to_be_visible()
    page.get_by_test_id("filter-clear").click()
    expect(card).to_have_count(1)
    screenshot(page, "wardrobe-desktop")

    card.get_by_test_id("item-edit").click()
    sheet.get_by_test_id("item-delete").click()
    expect(sheet.get_by_test_id("delete-confirm")).to_contain_text("Red race-day tee")
    sheet.get_by_test_id("delete-yes").click()
    expect(card).to_have_count(0)
    expect(page.get_by_test_id("wardrobe-empty")).to_be_visible()
    assert _items(live_server, user) == []


def test_a_file_that_is_not_a_photo_shows_the_api_reason(
    page: Page, live_server: LiveServer, make_user: Callable[..., WebUser]
) -> None:
    user = make_user()
    refused = live_server.api(
        "POST",
        "wardrobe/items",
        _token(live_server, user),
        files={"photo": ("list.txt", NOT_A_PHOTO, "text/plain")},
    )
    assert refused.status_code == 415
    reason = refused.json()["detail"]
    _open(page, user, "wardrobe")
    not_a_photo: FilePayload = {"name": "list.txt", "mimeType": "text/plain", "buffer": NOT_A_PHOTO}
    page.get_by_test_id("add-photo-input").set_input_files(files=[not_a_photo])
    expect(page.get_by_test_id("upload-error")).to_contain_text(reason)
    expect(page.get_by_test_id("wardrobe-empty")).to_be_visible()
    assert _items(live_server, user) == []


def test_phone_add_by_hand_two_columns_and_full_width_sheet(
    new_context: Callable[..., BrowserContext], live_server: LiveServer, make_user: Callable[..., WebUser]
) -> None:
    user = make_user()
    token = _token(live_server, user)
    added = live_server.api(
        "POST", "wardrobe/items", token, files={"photo": ("tee.jpg", RED_TEE.read_bytes(), "image/jpeg")}
    )
    assert added.status_code == 201, added.text
    page = new_context(phone=True).new_page()
    _open(page, user, "wardrobe")
    expect(page.get_by_test_id("wardrobe-item")).to_have_count(1)

    page.get_by_test_id("add-manual").click()
    sheet = page.get_by_test_id("item-sheet")
    box = sheet.bounding_box()
    assert box is not None
    assert box["width"] >= 389, box  # full width on a phone
    sheet.get_by_test_id("item-name").fill("Navy work jeans")
    sheet.get_by_test_id("item-category").select_option("Jeans")
    sheet.get_by_test_id("item-colour").select_option("Navy Blue")
    sheet.get_by_test_id("item-season-winter").check()
    sheet.get_by_test_id("item-tags").fill("work")
    sheet.get_by_test_id("item-save").click()
    expect(page.get_by_test_id("wardrobe-item")).to_have_count(2)
    jeans = page.get_by_test_id("wardrobe-item").filter(has_text="Navy work jeans")
    expect(jeans.get_by_test_id("item-card-category")).to_have_text("Jeans")
    expect(jeans.get_by_test_id("item-card-colour")).to_have_text("Navy Blue")
    stored = {i["name"]: i for i in _items(live_server, user)}
    assert stored["Navy work jeans"]["category"] == "Jeans"
    assert stored["Navy work jeans"]["colour"] == "Navy Blue"
    assert stored["Navy work jeans"]["tags"] == ["work"]

    cards = page.get_by_test_id("wardrobe-item")
    first, second = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
    assert first is not None
    assert second is not None
    assert abs(first["y"] - second["y"]) < 1  # two columns: side by side
    assert second["x"] > first["x"]
    page.get_by_test_id("filter-season").select_option("winter")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Navy work jeans")
    page.get_by_test_id("filter-clear").click()
    expect(cards).to_have_count(2)
    _fits_the_screen(page)
    screenshot(page, "wardrobe-phone")


def test_profile_in_imperial_units_is_stored_in_cm_and_kg(
    new_context: Callable[..., BrowserContext], live_server: LiveServer, make_user: Callable[..., WebUser]
) -> None:
    user = make_user()
    page = new_context(phone=True).new_page()
    _open(page, user, "profile")
    page.get_by_test_id("units-imperial").click()
    page.get_by_test_id("height-ft").fill("5")
    page.get_by_test_id("height-in").fill("5")
    page.get_by_test_id("weight").fill("115")
    page.get_by_test_id("waist").fill("28")
    page.get_by_test_id("fit_preference").select_option("regular")
    page.get_by_test_id("style-minimalist").check()
    page.get_by_test_id("home-city").fill("Shanghai")
    page.get_by_test_id("consent-use_measurements").check()
    page.get_by_test_id("profile-save").click()
    expect(page.get_by_test_id("toast")).to_have_text("Profile saved.")

    saved = _profile(live_server, user)
    assert saved["height_cm"] == pytest.approx(165.1, abs=0.1)
    assert saved["weight_kg"] == pytest.approx(52.2, abs=0.1)
    assert saved["waist_cm"] == pytest.approx(71.1, abs=0.1)
    assert saved["preferred_units"] == {"length": "in", "weight": "lb"}
    assert saved["fit_preference"] == "regular"
    assert saved["styles"] == ["minimalist"]
    assert saved["home_city"] == "Shanghai"
    assert saved["consents"]["use_measurements"] is True
    assert saved["consents"]["marketing"] is False

    page.reload()
    expect(page.get_by_test_id("units-imperial")).to_have_attribute("aria-checked", "true")
    expect(page.get_by_test_id("height-ft")).to_have_value("5")
    expect(page.get_by_test_id("height-in")).to_have_value("5")
    expect(page.get_by_test_id("weight")).to_have_value("115")
    expect(page.get_by_test_id("waist")).to_have_value("28")
    _fits_the_screen(page)
    screenshot(page, "profile-phone")

    page.get_by_test_id("units-metric").click()
    expect(page.get_by_test_id("height")).to_have_value("165.1")
    expect(page.get_by_test_id("weight")).to_have_value("52.2")
    page.get_by_test_id("height").fill("20")
    page.get_by_test_id("profile-save").click()
    expect(page.get_by_test_id("error-height")).to_contain_text("outside 50-250 cm")
    expect(page.get_by_test_id("profile-error")).to_be_visible()
    expect(page.get_by_test_id("height")).to_have_value("20")  # what was typed stays
    assert _profile(live_server, user)["height_cm"] == pytest.approx(165.1, abs=0.1)  # nothing written


def test_both_pages_in_chinese(
    page: Page, live_server: LiveServer, make_user: Callable[..., WebUser]
) -> None:
    user = make_user()
    _open(page, user, "profile")
    expect(page.get_by_test_id("profile-page").locator("h1")).to_have_text("My profile")
    page.get_by_test_id("profile-locale").select_option("zh")
    expect(page.get_by_test_id("profile-page").locator("h1")).to_have_text("我的资料")
    expect(page.get_by_test_id("profile-measurements")).to_contain_text("身高")
    expect(page.get_by_test_id("units-metric")).to_have_text("公制（厘米、公斤）")
    expect(page.get_by_test_id("profile-save")).to_have_text("保存资料")
    expect(page.get_by_test_id("toast")).to_have_text("语言已保存。")
    assert _profile(live_server, user)["locale"] == "zh"

    page.get_by_test_id("nav-wardrobe").click()
    expect(page.get_by_test_id("wardrobe-page").locator("h1")).to_have_text("我的衣橱")
    expect(page.get_by_test_id("wardrobe-empty")).to_contain_text("衣橱还是空的")
    expect(page.get_by_test_id("add-photo")).to_have_text("拍照添加")
    page.get_by_test_id("add-manual").click()
    expect(page.get_by_test_id("item-sheet")).to_contain_text("手动添加衣物")
    expect(page.get_by_test_id("item-category").locator("option[value=Jeans]")).to_have_text("牛仔裤")
    screenshot(page, "wardrobe-zh")
