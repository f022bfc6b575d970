"""SizingService on SQLite and PostgreSQL: advice from charts, measurements and feedback, and refusals.

Most tests replace the fit model with a small deterministic one (a logistic link on
the offset and the feedback rates), because they are about the service's rules:
which sizes are scored, how the lean, runner-up and preference are chosen, what
feedback is stored and read back. The trained model has its own tests
(test_model.py); the last test here runs the service on a model trained on a
RentTheRunway sample.
"""

from __future__ import annotations

import pytest

from storage.sql import Database
from tests.tools.sizing.fakes import LogisticFitModel
from tools.catalog.schemas import ProductDetail
from tools.catalog.service import CatalogService
from tools.profile.schemas import Department, FitPreference
from tools.sizing.chartbook import ChartBook
from tools.sizing.model import FitModel
from tools.sizing.service import Body, SizingError, SizingService


def _first(catalog: CatalogService, **attributes: str) -> ProductDetail:
    for batch in catalog.docs():
        for doc in batch:
            if all(getattr(doc, k) == v for k, v in attributes.items()):
                detail = catalog.get_product(doc.id)
                assert detail is not None
                return detail
    pytest.skip(f"no product with {attributes} in the small catalog")


@pytest.fixture
def sizing(database: Database) -> SizingService:
    return SizingService(database, ChartBook(database), LogisticFitModel())  # type: ignore[arg-type]


@pytest.fixture
def womens_top(catalog: CatalogService) -> ProductDetail:
    return _first(catalog, gender="Women", article_type="Tops")


def _body(**values: float) -> Body:
    return Body(values=dict(values), department=Department.women)


def test_advises_the_size_whose_chart_range_holds_the_chest(
    sizing: SizingService, womens_top: ProductDetail, user_id: str
) -> None:
    chart = sizing.charts.lookup(None, Department.women, "top", "letter")
    assert chart is not None
    middle = chart.sizes[len(chart.sizes) // 2]
    low, high = middle.body["chest"]
    advice = sizing.recommend(user_id, womens_top, _body(chest=(low + high) / 2, height=165, weight=58))
    assert advice.method == "model"
    assert advice.recommended.size.upper() == middle.label.upper()
    assert advice.recommended.chart["chest"] == (low, high)
    assert advice.runner_up is not None
    assert advice.runner_up.p_fit is not None
    assert advice.recommended.p_fit is not None
    assert advice.recommended.p_fit >= advice.runner_up.p_fit
    assert advice.confidence == advice.recommended.p_fit
    sizes = [o.size for o in advice.sizes]
    assert set(sizes) == {sku.size for sku in womens_top.skus}
    chest = next(b for b in advice.body if b.dimension == "chest")
    assert not chest.estimated
    assert chest.value_cm == (low + high) / 2


def test_chest_is_estimated_from_height_and_weight_and_said_to_be(
    sizing: SizingService, womens_top: ProductDetail, user_id: str
) -> None:
    advice = sizing.recommend(user_id, womens_top, _body(height=165, weight=58))
    chest = next(b for b in advice.body if b.dimension == "chest")
    assert chest.estimated
    assert chest.sd_cm is not None
    assert chest.sd_cm > 0
    assert 75 < chest.value_cm < 100


def test_missing_measurements_are_named_not_guessed(
    sizing: SizingService, womens_top: ProductDetail, user_id: str
) -> None:
    with pytest.raises(SizingError) as caught:
        sizing.recommend(user_id, womens_top, _body(height=165))
    assert caught.value.code == "missing_measurements"
    assert "chest" in caught.value.missing


@pytest.mark.parametrize(
    ("values", "named"),
    [({"height": 30.0, "weight": 60.0}, "height"), ({"height": 170.0, "weight": 900.0}, "weight")],
)
def test_impossible_measurements_are_refused(
    sizing: SizingService, womens_top: ProductDetail, user_id: str, values: dict[str, float], named: str
) -> None:
    with pytest.raises(SizingError) as caught:
        sizing.recommend(user_id, womens_top, _body(**values))
    assert caught.value.code == "implausible"
    assert named in str(caught.value)


def test_one_size_products_need_no_advice(
    sizing: SizingService, catalog: CatalogService, user_id: str
) -> None:
    bag = _first(catalog, article_type="Handbags")
    with pytest.raises(SizingError) as caught:
        sizing.recommend(user_id, bag, _body(height=165, weight=58))
    assert caught.value.code == "one_size"


def test_feedback_moves_the_persons_next_advice(
    sizing: SizingService, womens_top: ProductDetail, user_id: str
) -> None:
    body = _body(chest=88.0, height=165, weight=58)
    before = sizing.recommend(user_id, womens_top, body)
    for _ in range(3):
        recorded = sizing.record_feedback(user_id, womens_top, before.recommended.size, "small", body)
        assert recorded.offset_cm == before.recommended.offset_cm
    assert recorded.person_feedback.n == 3
    assert recorded.person_feedback.small == 3
    after = sizing.recommend(user_id, womens_top, body)
    same = next(o for o in after.sizes if o.size == before.recommended.size)
    assert same.p_small is not None
    assert before.recommended.p_small is not None
    assert same.p_small > before.recommended.p_small
    assert after.person_feedback.small == 3
    assert after.product_feedback.n == 3
    assert (after.recommended.offset_cm or 0) >= (before.recommended.offset_cm or 0)
    listed = sizing.list_feedback(user_id)
    assert [row["fit"] for row in listed] == ["small"] * 3


def test_feedback_on_a_size_the_product_lacks_is_refused(
    sizing: SizingService, womens_top: ProductDetail, user_id: str
) -> None:
    with pytest.raises(SizingError) as caught:
        sizing.record_feedback(user_id, womens_top, "XXXXL", "small", _body(chest=88.0))
    assert caught.value.code == "unknown_size"
    assert womens_top.skus[0].size in str(caught.value)
    assert sizing.list_feedback(user_id) == []


def test_loose_preference_breaks_a_near_tie_towards_the_roomier_size(
    sizing: SizingService, womens_top: ProductDetail, user_id: str
) -> None:
    chart = sizing.charts.lookup(None, Department.women, "top", "letter")
    assert chart is not None
    a, b = chart.sizes[1], chart.sizes[2]
    between = (a.body["chest"][1] + b.body["chest"][0]) / 2  # on the boundary: both sizes near-equal
    plain = sizing.recommend(user_id, womens_top, _body(chest=between))
    loose = sizing.recommend(
        user_id,
        womens_top,
        Body(values={"chest": between}, department=Department.women, fit_preference=FitPreference.loose),
    )
    roomier = max(plain.recommended, plain.runner_up or plain.recommended, key=lambda o: o.offset_cm or 0)
    assert loose.recommended.size == roomier.size


def test_without_a_model_the_chart_answers_and_says_so(
    database: Database, womens_top: ProductDetail, user_id: str
) -> None:
    service = SizingService(database, ChartBook(database), None)
    advice = service.recommend(user_id, womens_top, _body(chest=88.0))
    assert advice.method == "chart"
    assert advice.confidence is None
    assert advice.model_version is None
    assert advice.recommended.p_fit is None
    low, high = advice.recommended.chart["chest"]
    assert low <= 88.0 <= high


def test_with_the_trained_model_reports_of_too_small_move_the_advice_up(
    database: Database, womens_top: ProductDetail, user_id: str, small_model: FitModel
) -> None:
    service = SizingService(database, ChartBook(database), small_model)
    body = _body(chest=88.0, height=165, weight=58)
    before = service.recommend(user_id, womens_top, body)
    assert before.method == "model"
    assert before.model_version == small_model.version
    for option in before.sizes:
        assert option.p_small is not None
        assert option.p_fit is not None
        assert option.p_large is not None
        assert abs(option.p_small + option.p_fit + option.p_large - 1) < 1e-3
    assert before.confidence is not None
    assert 0 < before.confidence < 1
    for _ in range(3):
        service.record_feedback(user_id, womens_top, before.recommended.size, "small", body)
    after = service.recommend(user_id, womens_top, body)
    same_before = next(o for o in before.sizes if o.size == before.recommended.size)
    same_after = next(o for o in after.sizes if o.size == before.recommended.size)
    assert same_after.p_small is not None
    assert same_before.p_small is not None
    assert same_after.p_small > same_before.p_small
    order = [o.size for o in after.sizes]
    assert order.index(after.recommended.size) >= order.index(before.recommended.size)


def test_reports_of_too_large_move_the_advice_down_and_say_why(
    sizing: SizingService, womens_top: ProductDetail, user_id: str
) -> None:
    body = _body(chest=94.0)
    before = sizing.recommend(user_id, womens_top, body)
    assert before.lean is None
    for _ in range(2):
        sizing.record_feedback(user_id, womens_top, before.recommended.size, "large", body)
    after = sizing.recommend(user_id, womens_top, body)
    order = [o.size for o in after.sizes]
    assert after.lean == "runs_large"
    assert order.index(after.recommended.size) == order.index(before.recommended.size) - 1
    assert after.runner_up is not None
    assert after.runner_up.size == before.recommended.size
    assert after.runner_up_direction == "larger"
