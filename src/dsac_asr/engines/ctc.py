"""CTC acoustic models (wav2vec2, MMS, w2v-BERT, Omnilingual ASR) through ONNX Runtime.

The network takes 16 kHz samples and gives a token posterior per frame.
Speech regions found by Silero VAD are laid end to end with short gaps
(``regions.collapse``, as for Whisper) and cut at region boundaries, and
inside long regions at their quietest moments, into windows of at most
``WINDOW_S``. A network with an ``attention_mask`` input decodes
``batch_size`` windows together (padded); one without decodes each alone,
since padding would change what it hears. Words and their times come from
the greedy CTC path (``ctc_decode``), mapped back to the original audio.

CTC models write plain lower-case words: punctuation and casing are restored
by the pipeline, as for Kaldi (``punctuated: false``). There is no language
identification: every region is decoded with the model's one vocabulary.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from dsac_asr.engines.base import (
    ProgressCallback,
    RecognitionRequest,
    RecognizedSegment,
    RecognizedWord,
)
from dsac_asr.engines.ctc_decode import (
    AlignedWord,
    Vocabulary,
    greedy_words,
    log_softmax,
    read_tokens,
)
from dsac_asr.engines.regions import CollapsedAudio, Region, collapse, find_speech, split_at_pauses
from dsac_asr.errors import EngineError, MissingExtraError, ModelError
from dsac_asr.models.languages import MULTILINGUAL
from dsac_asr.models.manifest import CtcSettings, InstalledModel

SAMPLE_RATE_HZ = 16000
WINDOW_S = 30.0
PAUSE_S = 0.4
SEGMENT_GAP_S = 1.0
"""A pause this long between two words starts a new segment."""
MASK_INPUT = "attention_mask"


@dataclass(frozen=True)
class CtcOptions:
    """Settings shared by every request on one loaded model."""

    cpu_threads: int = 0
    batch_size: int = 4


@dataclass(frozen=True)
class _Window:
    """One window of one clip's collapsed speech."""

    clip: int
    region: Region


def _session(path: Any, cpu_threads: int) -> Any:
    """An ONNX Runtime session for the network at ``path`` (the ``ctc`` extra)."""
    try:
        import onnxruntime
    except ImportError as exc:
        raise MissingExtraError(
            "the CTC engine needs the ctc extra: pip install 'dsac-asr[ctc]'"
        ) from exc
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = cpu_threads
    options.log_severity_level = 3
    options.enable_cpu_mem_arena = False  # keep no high-water mark between windows
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelError(f"cannot load the ONNX model {path}: {exc}") from exc


class CtcEngine:
    """A loaded CTC model; ``recognize`` may be called many times, from several threads."""

    sample_rate_hz = SAMPLE_RATE_HZ

    def __init__(self, model: InstalledModel, options: CtcOptions | None = None) -> None:
        self.options = options or CtcOptions()
        self.model_id = model.id
        self.settings = model.manifest.ctc or CtcSettings()
        languages = model.manifest.languages
        self._language = languages[0] if len(languages) == 1 else None
        network = model.path / self.settings.model_file
        if not network.is_file():
            raise ModelError(f"CTC model {model.id!r}: {network} does not exist")
        tokens = read_tokens(model.path / self.settings.tokens_file)
        self.vocabulary = Vocabulary(tokens, self.settings.blank_id, self.settings.word_delimiter)
        self._session = _session(network, self.options.cpu_threads)
        inputs = [item.name for item in self._session.get_inputs()]
        self._input, self._masked = inputs[0], MASK_INPUT in inputs
        self.frame_s = self._measure_frame_s()

    def _measure_frame_s(self) -> float:
        """Seconds of audio per output frame: the difference in frames between one and
        two seconds of silence (the network's convolutions fix it)."""
        one, two = (
            self._run([np.zeros(seconds * SAMPLE_RATE_HZ, np.float32)]).shape[1]
            for seconds in (1, 2)
        )
        if two <= one:
            raise ModelError(f"CTC model {self.model_id!r} gives no more frames for more audio")
        return 1.0 / float(two - one)

    def recognize(
        self,
        samples: npt.NDArray[np.float32],
        request: RecognitionRequest,
        on_progress: ProgressCallback | None = None,
    ) -> list[RecognizedSegment]:
        """Recognise the speech regions of mono 16 kHz audio (``request``'s language,
        domain, prompts, hotwords and temperature change nothing: the vocabulary
        is the model's and decoding is greedy)."""
        return self.recognize_many([samples], request, on_progress)[0]

    def recognize_many(
        self,
        clips: Sequence[npt.NDArray[np.float32]],
        request: RecognitionRequest,
        on_progress: ProgressCallback | None = None,
        share: Sequence[Hashable | None] | None = None,
    ) -> list[list[RecognizedSegment]]:
        """Each clip's segments, its windows decoded in batches with the other clips'
        (a window never holds two clips, so ``share`` changes nothing)."""
        speeches = [collapse(clip, self._speech_regions(clip), SAMPLE_RATE_HZ) for clip in clips]
        windows = [
            _Window(index, region)
            for index, speech in enumerate(speeches)
            for region in speech.spans(WINDOW_S)
        ]
        words: list[list[RecognizedWord]] = [[] for _ in clips]
        step = max(1, self.options.batch_size) if self._masked else 1
        for start in range(0, len(windows), step):
            batch = windows[start : start + step]
            for window, found in zip(batch, self._decode(speeches, batch), strict=True):
                speech = speeches[window.clip]
                words[window.clip].extend(_placed(found, window.region, speech))
            if on_progress is not None:
                on_progress(min(start + step, len(windows)) / len(windows))
        if on_progress is not None:
            on_progress(1.0)
        language = None if request.language == MULTILINGUAL else request.language
        return [_segments(clip_words, language or self._language) for clip_words in words]

    def _speech_regions(self, samples: npt.NDArray[np.float32]) -> list[Region]:
        """Speech regions of ``samples``, each cut to fit a window."""
        window, pause = int(WINDOW_S * SAMPLE_RATE_HZ), int(PAUSE_S * SAMPLE_RATE_HZ)
        return split_at_pauses(samples, find_speech(samples, SAMPLE_RATE_HZ), window, pause)

    def _decode(
        self, speeches: Sequence[CollapsedAudio], batch: Sequence[_Window]
    ) -> list[list[tuple[AlignedWord, float, float]]]:
        """Each window's words, with the length of a frame and of the window in seconds."""
        pieces = [
            self._prepared(speeches[w.clip].slice(w.region.start, w.region.end)) for w in batch
        ]
        logits = self._run(pieces)
        results = []
        for row, piece in enumerate(pieces):
            duration_s = len(piece) / SAMPLE_RATE_HZ
            frames = min(logits.shape[1], round(duration_s / self.frame_s))
            found = greedy_words(log_softmax(logits[row, :frames]), self.vocabulary)
            results.append([(word, self.frame_s, duration_s) for word in found])
        return results

    def _run(self, pieces: Sequence[npt.NDArray[np.float32]]) -> npt.NDArray[np.float32]:
        """The network's ``(batch, frames, tokens)`` logits for ``pieces``, zero-padded."""
        longest = max(len(piece) for piece in pieces)
        padded = np.zeros((len(pieces), longest), dtype=np.float32)
        mask = np.zeros((len(pieces), longest), dtype=np.int64)
        for row, piece in enumerate(pieces):
            padded[row, : len(piece)], mask[row, : len(piece)] = piece, 1
        feeds = {self._input: padded} | ({MASK_INPUT: mask} if self._masked else {})
        try:
            return np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise EngineError(f"ONNX Runtime failed on model {self.model_id!r}: {exc}") from exc

    def _prepared(self, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """A window as the network takes it: zero mean and unit variance when asked."""
        if not self.settings.normalize:
            return samples.astype(np.float32)
        centred = samples - samples.mean()
        scaled: npt.NDArray[np.float32] = (centred / np.sqrt(centred.var() + 1e-7)).astype(
            np.float32
        )
        return scaled


def _placed(
    found: list[tuple[AlignedWord, float, float]], window: Region, speech: CollapsedAudio
) -> list[RecognizedWord]:
    """A window's words with times in the original audio."""
    offset_s = window.start / SAMPLE_RATE_HZ
    placed = []
    for word, frame_s, duration_s in found:
        start_s, end_s = speech.to_original(
            offset_s + word.first_frame * frame_s,
            offset_s + min(word.end_frame * frame_s, duration_s),
        )
        placed.append(
            RecognizedWord(word.text, round(start_s, 3), round(end_s, 3), word.confidence)
        )
    return placed


def _segments(words: list[RecognizedWord], language: str | None) -> list[RecognizedSegment]:
    """Words grouped into segments at pauses of ``SEGMENT_GAP_S`` or more."""
    groups: list[list[RecognizedWord]] = []
    for word in words:
        if not groups or word.start_s - groups[-1][-1].end_s >= SEGMENT_GAP_S:
            groups.append([])
        groups[-1].append(word)
    return [
        RecognizedSegment(" ".join(w.text for w in group), tuple(group), language)
        for group in groups
    ]
