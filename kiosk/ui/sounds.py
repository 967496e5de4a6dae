"""One short sound per scan outcome, synthesized with numpy at start (no binary assets).

    sounds = Sounds()          # writes four small WAVs to a cache folder, loads them
    sounds.play("checked_in")  # checked_in / checked_out / repeat / refused; silent without audio

A kiosk without an audio device (or a test under Xvfb) simply stays silent.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

RATE = 22050
# outcome -> list of (frequency Hz, seconds): rising for success, falling for out, low for refusal.
TONES = {
    "checked_in": [(880, 0.09), (1320, 0.16)],
    "checked_out": [(1320, 0.09), (880, 0.16)],
    "repeat": [(990, 0.10)],
    "refused": [(330, 0.18), (262, 0.30)],
    "tap": [(1500, 0.03)],
}


def synth(notes: list[tuple[int, float]]) -> bytes:
    parts = []
    for freq, seconds in notes:
        t = np.arange(int(RATE * seconds)) / RATE
        envelope = np.minimum(1.0, np.minimum(t, seconds - t) * 60)  # 16 ms fade in/out, no clicks
        parts.append(0.45 * np.sin(2 * np.pi * freq * t) * envelope)
    samples = np.concatenate(parts)
    return (samples * 32767).astype("<i2").tobytes()


def write_wavs(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, notes in TONES.items():
        path = folder / f"{name}.wav"
        if not path.exists():
            with wave.open(str(path), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(RATE)
                w.writeframes(synth(notes))
        out[name] = path
    return out


def sound_device() -> str | None:
    """What would play a sound here: an ALSA card, a PulseAudio/PipeWire server, another
    system's audio; None on a machine without any (a kiosk without a speaker, a test under
    Xvfb), where even trying makes libasound print a dozen errors to stderr."""
    if not sys.platform.startswith("linux"):
        return "system"
    cards = Path("/proc/asound/cards")
    try:
        if cards.exists() and "no soundcards" not in cards.read_text(errors="replace"):
            return "alsa"
    except OSError:
        pass
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if os.environ.get("PULSE_SERVER") or (runtime and any(Path(runtime, n).exists()
                                                          for n in ("pulse/native", "pipewire-0"))):
        return "pulse"
    return None


class Sounds:
    def __init__(self, folder: Path | None = None, enabled: bool = True):
        self._sounds = {}
        if not enabled or os.environ.get("WEIGUANG_NO_SOUND"):
            return
        if sound_device() is None:
            log.info("no sound card: sounds off")   # said once; no audio library is loaded
            return
        folder = folder or Path(tempfile.gettempdir()) / "weiguang-sounds"
        try:
            from kivy.core.audio import SoundLoader
            for name, path in write_wavs(folder).items():
                sound = SoundLoader.load(str(path))
                if sound is not None:
                    self._sounds[name] = sound
        except Exception as exc:  # noqa: BLE001 - no audio device: stay silent
            log.info("sounds disabled: %s", exc)

    def play(self, outcome: str) -> None:
        sound = self._sounds.get(outcome)
        if sound is None:
            return
        try:
            sound.stop()
            sound.play()
        except Exception:  # noqa: BLE001
            pass
