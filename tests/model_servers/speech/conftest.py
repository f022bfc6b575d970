"""Real engines and real speech for the speech server's tests: PocketSphinx, espeak-ng, and
flite's ``slt`` voice for utterances PocketSphinx's general model hears correctly."""

from __future__ import annotations

import pytest

from model_servers.speech.espeak_engine import EspeakSynthesizer
from model_servers.speech.pocketsphinx_engine import PocketSphinxRecognizer

#: Sentences the general English model transcribes word for word in flite's slt voice.
BLACK_JACKET = "is the black jacket in stock"
RED_DRESS = "show me a red dress"


@pytest.fixture(scope="session")
def recognizer() -> PocketSphinxRecognizer:
    engine = PocketSphinxRecognizer(pool_size=2)
    engine.warm()
    return engine


@pytest.fixture(scope="session")
def synthesizer() -> EspeakSynthesizer:
    return EspeakSynthesizer()
