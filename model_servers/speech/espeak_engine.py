"""The embedded synthesiser: espeak-ng (Debian's ``espeak-ng`` package), English and Mandarin voices.

A formant synthesiser: robotic, but it starts in ~10 ms a sentence on one core and needs no weights,
which is what an embedded default can promise. Production points ``IK_SPEECH__TTS=server`` at a
neural voice (Piper or any OpenAI-compatible ``/v1/audio/speech``).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave

import numpy as np

from model_servers.speech.audio import pcm_from_bytes
from model_servers.speech.engine import PCM, SpeechError, require_language

#: espeak-ng's voice per language: US English and Mandarin (Hanzi read as Mandarin, Latin as English).
VOICES = {"en": "en-us", "zh": "cmn"}
#: A sentence taking longer than this to synthesise means espeak-ng is stuck.
_TIMEOUT_S = 20.0


class EspeakSynthesizer:
    name = "espeak-ng"
    languages = frozenset(VOICES)

    def __init__(self, *, words_per_minute: int = 165, binary: str = "espeak-ng") -> None:
        self.words_per_minute = words_per_minute
        found = shutil.which(binary)
        if found is None:
            raise SpeechError(
                f"{binary} is not installed (Debian: apt-get install espeak-ng; `make install` does it "
                "as root)"
            )
        self.binary = found

    def synthesize(self, text: str, language: str) -> tuple[PCM, int]:
        require_language(self.name, self.languages, language)
        if not text.strip():
            return np.zeros(0, np.int16), 22_050
        try:
            done = subprocess.run(  # noqa: S603 - a fixed binary; the text goes in on stdin, not as options
                [self.binary, "--stdout", "-v", VOICES[language], "-s", str(self.words_per_minute)],
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise SpeechError("espeak-ng took too long to speak a sentence") from None
        if done.returncode != 0 or not done.stdout:
            detail = done.stderr.decode("utf-8", "replace").strip()[:200]
            raise SpeechError(f"espeak-ng failed ({done.returncode}): {detail}")
        with wave.open(io.BytesIO(done.stdout)) as reader:
            rate = reader.getframerate()
            # espeak-ng writes a streaming header with no frame count; read to the end.
            pcm = pcm_from_bytes(reader.readframes(2**31 - 1))
        return pcm, rate
