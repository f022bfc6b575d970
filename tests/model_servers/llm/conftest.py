"""The real SmolLM2 model, loaded once per test module (0.1 s; generation is what costs time).

llama.cpp comes with the ``local-llm`` extra. Without it these tests skip on a
developer's machine and fail in CI (``IK_TEST_REQUIRE_SERVICES=1``), like the
server-backed tests in ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.conftest import REQUIRE_SERVICES

if TYPE_CHECKING:
    from model_servers.llm.serving import LlamaEngine

MODEL = "SmolLM2-135M-Instruct"


def _require_llama() -> None:
    try:
        import llama_cpp  # noqa: F401

        from model_servers.llm.serving import bundled_model_path

        bundled_model_path()
    except (ImportError, FileNotFoundError) as exc:
        message = f"the embedded LLM needs the local-llm extra (make install-dev): {exc}"
        if REQUIRE_SERVICES:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="module")
def engine() -> Iterator[LlamaEngine]:
    _require_llama()
    from model_servers.llm.serving import LlamaEngine, bundled_model_path

    loaded = LlamaEngine(bundled_model_path())
    yield loaded
    loaded.close()
