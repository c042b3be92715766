"""Running the speaker models: torch as loaded, or onnxruntime on their ONNX export.

The models are built and their weights loaded in torch (the checked
checkpoints are torch files); at load they are exported to ONNX in memory and
run by onnxruntime (already installed with faster-whisper). Measured on the
2-core machine, one thread: CAM++ 1.7-2x faster than torch eager with the same
output (largest difference 6e-6), segmentation-3.0 15-25 % faster.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float32]
Runner = Callable[[Floats], Floats]
"""A model as a function of one float32 array (batch first) to its float32 output."""
OPSET = 17


def torch_runner(model: Any, torch: Any) -> Runner:
    """``model`` run by torch without autograd."""

    def run(inputs: Floats) -> Floats:
        with torch.inference_mode():
            return np.asarray(model(torch.from_numpy(inputs)).numpy(), dtype=np.float32)

    return run


def onnx_runner(
    model: Any, torch: Any, example: Floats, dynamic: dict[int, str], threads: int
) -> Runner:
    """``model`` exported to ONNX (traced on ``example``; ``dynamic`` names the input
    axes whose size may change) and run by onnxruntime on ``threads`` threads."""
    import onnxruntime

    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.from_numpy(example),),
            buffer,
            input_names=["input"],
            output_names=["output"],
            dynamic_axes={"input": dynamic, "output": {0: dynamic.get(0, "batch")}},
            opset_version=OPSET,
            dynamo=False,
        )
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # ONNX Runtime's memory arena keeps the most a run ever took, and CAM++'s inputs
    # vary in length: 10 min of audio left 230 MB held after diarisation, 50 MB without.
    options.enable_cpu_mem_arena = False
    session = onnxruntime.InferenceSession(
        buffer.getvalue(), options, providers=["CPUExecutionProvider"]
    )

    def run(inputs: Floats) -> Floats:
        (output,) = session.run(["output"], {"input": np.ascontiguousarray(inputs)})
        return np.asarray(output, dtype=np.float32)

    return run
