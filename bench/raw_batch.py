"""The raw engine on many files in one process: model loaded once, files back to back.

``python raw_batch.py MODEL_ID AUDIO...`` prints JSON: the load time, the wall
time of all transcriptions (load excluded), each file's time and text. Same
load and settings as ``raw_whisper.py``.
"""

from __future__ import annotations

import json
import sys
import time

from raw_whisper import load_model, transcribe_file


def main() -> None:
    """Transcribe argv[2:] with bundled model argv[1], one after another."""
    model_id, paths = sys.argv[1], sys.argv[2:]
    started = time.perf_counter()
    model = load_model(model_id)
    load_s = time.perf_counter() - started
    per_file_s, texts = [], []
    batch_started = time.perf_counter()
    for path in paths:
        one = time.perf_counter()
        texts.append(transcribe_file(model, path))
        per_file_s.append(time.perf_counter() - one)
    wall_s = time.perf_counter() - batch_started
    report = {"load_s": load_s, "wall_s": wall_s, "per_file_s": per_file_s, "texts": texts}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
