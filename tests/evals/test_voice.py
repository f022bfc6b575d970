"""The voice suite: its data, its word error arithmetic, and the whole run on two utterances."""

from __future__ import annotations

import difflib
import json
import shutil

import numpy as np
import pytest

from agent.router import INTENT_DATA_DIR
from evals.voice import load_utterances, run, speech_bounds, word_errors
from model_servers.speech.lm import spoken_words

pytestmark = pytest.mark.unit


def test_word_errors_count_substitutions_insertions_and_deletions() -> None:
    assert word_errors("Show me a red dress", "show me a red dress") == (0, 5)
    assert word_errors("show me a red dress", "show me the red dress please") == (2, 5)
    assert word_errors("show me a red dress", "red dress") == (3, 5)
    assert word_errors("under $40", "under forty dollars") == (0, 3)  # both sides normalised alike
    assert word_errors("hello", "") == (1, 1)


def test_speech_bounds_skip_the_quiet_at_either_end() -> None:
    pcm = np.zeros(1000, np.int16)
    pcm[100], pcm[799] = 600, -2000
    pcm[900] = 300  # under the level: not speech
    assert speech_bounds(pcm) == (100, 800)
    assert speech_bounds(np.zeros(10, np.int16)) == (0, 0)


def test_the_utterances_are_held_out_from_the_language_models_sentences() -> None:
    utterances = load_utterances()
    assert len(utterances) >= 40
    assert len({u.id for u in utterances}) == len(utterances)
    with (INTENT_DATA_DIR / "train.jsonl").open(encoding="utf-8") as lines:
        train = [" ".join(spoken_words(json.loads(line)["text"])) for line in lines]
    for u in utterances:
        text = " ".join(spoken_words(u.text))
        closest = max(difflib.SequenceMatcher(None, text, t).ratio() for t in train)
        assert closest < 0.7, (u.id, closest)


def test_the_suite_on_two_utterances() -> None:
    if shutil.which("flite") is None or shutil.which("espeak-ng") is None:
        pytest.skip("flite and espeak-ng are needed (Debian: apt-get install flite espeak-ng)")
    result = run(voices=("slt",), limit=2, latency_turns=2, realtime=False, workers=1)
    json.dumps(result)
    assert result["suite"] == "voice"
    for figure in (result["wer_domain"], result["wer_general"], *result["wer_by_voice"]["slt"].values()):
        assert 0.0 <= figure <= 1.0
    assert result["recognizer"]["clips"] == 2
    assert 0 < result["rtf_domain"] < 2
    trips = result["round_trips"]
    assert trips["turns"] == 2
    assert trips["with_transcript"] == trips["with_audio"] == trips["round_trips_ok"] == 2
    assert all(t["latency_ms"] is not None and t["latency_ms"] > 0 for t in trips["records"])
    assert trips["targets_met"] is None  # not paced in real time: not judged
    cases = result["bad_input"]
    assert result["bad_input_total"] == len(cases) == 11
    # Closing mid-utterance is prompt, silent, and gives the utterance's decoder back to the pool.
    assert cases["disconnect_mid_utterance"]["decoder_returned"]
    failed = [name for name, case in cases.items() if not case["pass"]]
    assert not failed, {name: cases[name]["what"] for name in failed}
