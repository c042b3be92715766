"""Unit tests of the Kaldi recipe importer on a fake recipe of placeholder files."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsac_asr.errors import InvalidOptionError, ModelError
from dsac_asr.models.kaldi_import import import_kaldi, silence_phones
from dsac_asr.models.manifest import Band, read_manifest

CHAIN = "exp/chain_cleaned/tdnn1g_sp"
GRAPH = f"{CHAIN}/graph_parl"
EXTRACTOR = "exp/nnet3_cleaned/extractor"
PHONES_TXT = "<eps> 0\nSIL 1\nSIL_B 2\nSPN_S 3\na_B 4\nsp_I 5\n#0 6\n"


def _put(root: Path, relative: str, content: str | bytes = "x") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


@pytest.fixture
def recipe(tmp_path: Path) -> Path:
    """A Kaldi recipe tree shaped like the seed's, with an i-vector chain model."""
    root = tmp_path / "recipe"
    _put(root, f"{CHAIN}/final.mdl", b"\0B<Nnet3> input-node name=ivector dim=100\n\0")
    _put(root, f"{CHAIN}/frame_subsampling_factor", "3\n")
    _put(root, "exp/tri3/final.mdl", b"gmm")
    for name in ("HCLr.fst", "Gr.fst", "disambig_tid.int", "phones/word_boundary.int"):
        _put(root, f"{GRAPH}/{name}")
    _put(root, f"{GRAPH}/phones.txt", PHONES_TXT)
    for name in ("final.ie", "final.dubm", "final.mat", "global_cmvn.stats", "online_cmvn.conf"):
        _put(root, f"{EXTRACTOR}/{name}")
    _put(root, f"{EXTRACTOR}/splice_opts", "--left-context=3 --right-context=3\n")
    _put(root, "conf/mfcc.conf", "--sample-frequency=16000\n--num-ceps=13\n")
    _put(root, "conf/mfcc_hires.conf", "--use-energy=false\n--sample-frequency=16000\n")
    return root


def _import(
    recipe: Path,
    models: Path,
    *,
    model_id: str = "parl-en",
    band: Band = Band.BB,
    domain: str | None = None,
    version: str = "1",
    replace: bool = False,
) -> Path:
    """Import the fake recipe's graph as a Sesotho model; return the model folder."""
    model = import_kaldi(
        recipe,
        recipe / GRAPH,
        models,
        model_id=model_id,
        language="sto",
        band=band,
        domain=domain,
        version=version,
        replace=replace,
    )
    return model.path


def test_lays_out_vosk_model_from_recipe_root(recipe: Path, tmp_path: Path) -> None:
    folder = _import(recipe, tmp_path / "models", domain="parl")
    assert folder == tmp_path / "models" / "parl-en"
    expected = {
        "am/final.mdl": f"{CHAIN}/final.mdl",
        "conf/mfcc.conf": "conf/mfcc_hires.conf",
        "graph/HCLr.fst": f"{GRAPH}/HCLr.fst",
        "graph/Gr.fst": f"{GRAPH}/Gr.fst",
        "graph/disambig_tid.int": f"{GRAPH}/disambig_tid.int",
        "graph/phones.txt": f"{GRAPH}/phones.txt",
        "graph/phones/word_boundary.int": f"{GRAPH}/phones/word_boundary.int",
        "ivector/final.ie": f"{EXTRACTOR}/final.ie",
        "ivector/online_cmvn.conf": f"{EXTRACTOR}/online_cmvn.conf",
    }
    for relative, source in expected.items():
        assert (folder / relative).is_symlink(), relative
        assert (folder / relative).resolve() == (recipe / source).resolve()
    assert not (folder / "graph" / "HCLG.fst").exists()
    assert (folder / "ivector/splice.conf").read_text() == "--left-context=3\n--right-context=3\n"


def test_generates_model_conf_and_manifest(recipe: Path, tmp_path: Path) -> None:
    _put(recipe, f"{CHAIN}/frame_subsampling_factor", "2\n")
    folder = _import(recipe, tmp_path / "models", domain="parl", version="7")
    conf = (folder / "conf/model.conf").read_text().splitlines()
    assert "--frame-subsampling-factor=2" in conf
    assert "--endpoint.silence-phones=1:2:3:5" in conf
    assert "--beam=13.0" in conf
    manifest = read_manifest(folder)
    assert (manifest.engine, manifest.languages, manifest.band) == ("kaldi", ["sot"], Band.BB)
    assert (manifest.domain, manifest.version) == ("parl", "7")
    assert manifest.source == f"kaldi-import:{recipe}"


def test_accepts_the_chain_dir_itself(recipe: Path, tmp_path: Path) -> None:
    model = import_kaldi(
        recipe / CHAIN, recipe / GRAPH, tmp_path / "m", model_id="x", language="kor", band=Band.BB
    )
    assert (model.path / "am/final.mdl").resolve() == (recipe / CHAIN / "final.mdl").resolve()
    assert (model.path / "ivector/final.ie").resolve() == (recipe / EXTRACTOR / "final.ie")
    assert model.manifest.languages == ["kor"]


def test_hclg_graph_needs_words(recipe: Path, tmp_path: Path) -> None:
    graph = recipe / GRAPH
    for name in ("HCLr.fst", "Gr.fst", "disambig_tid.int"):
        (graph / name).unlink()
    _put(graph, "HCLG.fst")
    with pytest.raises(ModelError, match=r"lacks words\.txt"):
        _import(recipe, tmp_path / "models")
    _put(graph, "words.txt", "<eps> 0\n")
    folder = _import(recipe, tmp_path / "models")
    assert (folder / "graph/HCLG.fst").is_symlink()
    assert (folder / "graph/words.txt").is_symlink()


def test_missing_word_boundary_is_named(recipe: Path, tmp_path: Path) -> None:
    (recipe / GRAPH / "phones/word_boundary.int").unlink()
    with pytest.raises(ModelError, match=r"phones/word_boundary\.int") as info:
        _import(recipe, tmp_path / "models")
    assert str(recipe / GRAPH) in info.value.message
    assert not (tmp_path / "models" / "parl-en").exists()


def test_missing_final_mdl_is_named(recipe: Path, tmp_path: Path) -> None:
    (recipe / CHAIN / "final.mdl").unlink()
    (recipe / "exp/tri3/final.mdl").unlink()
    with pytest.raises(ModelError, match=r"no final\.mdl found") as info:
        _import(recipe, tmp_path / "models")
    assert str(recipe) in info.value.message


def test_several_chain_models_are_ambiguous(recipe: Path, tmp_path: Path) -> None:
    _put(recipe, "exp/chain/tdnn_b/final.mdl")
    _put(recipe, "exp/chain/tdnn_c/final.mdl")
    graph = recipe / "graphs/ko"
    for name in ("HCLG.fst", "words.txt", "phones/word_boundary.int"):
        _put(graph, name)
    with pytest.raises(ModelError, match="several models"):
        import_kaldi(recipe, graph, tmp_path / "m", model_id="x", language="eng", band=Band.BB)


def test_missing_extractor_file_is_named(recipe: Path, tmp_path: Path) -> None:
    (recipe / EXTRACTOR / "final.dubm").unlink()
    with pytest.raises(ModelError, match=r"lacks final\.dubm"):
        _import(recipe, tmp_path / "models")


def test_model_without_ivectors_needs_no_extractor(recipe: Path, tmp_path: Path) -> None:
    _put(recipe, f"{CHAIN}/final.mdl", b"\0B<Nnet3> input-node name=input dim=40\n")
    for path in (recipe / EXTRACTOR).iterdir():
        path.unlink()
    folder = _import(recipe, tmp_path / "models")
    assert not (folder / "ivector").exists()


def test_missing_mfcc_conf_lists_where_it_looked(recipe: Path, tmp_path: Path) -> None:
    for name in ("mfcc.conf", "mfcc_hires.conf"):
        (recipe / "conf" / name).unlink()
    with pytest.raises(ModelError, match=r"no conf/mfcc_hires\.conf") as info:
        _import(recipe, tmp_path / "models")
    assert str(recipe / "conf") in info.value.message


def test_sample_frequency_must_match_band(recipe: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="--sample-frequency=16000"):
        _import(recipe, tmp_path / "models", band=Band.NB)
    _put(recipe, "conf/mfcc_hires.conf", "--sample-frequency=8000\n")
    assert _import(recipe, tmp_path / "models", band=Band.NB).is_dir()


def test_refuses_to_overwrite_unless_replace(recipe: Path, tmp_path: Path) -> None:
    folder = _import(recipe, tmp_path / "models")
    _put(folder, "marker", "old")
    with pytest.raises(ModelError, match="already exists"):
        _import(recipe, tmp_path / "models")
    assert (folder / "marker").exists()
    _import(recipe, tmp_path / "models", replace=True)
    assert not (folder / "marker").exists()
    assert (folder / "am/final.mdl").is_symlink()
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["parl-en"]
    assert (recipe / CHAIN / "final.mdl").is_file()


def test_bad_model_id_or_fsf(recipe: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidOptionError):
        _import(recipe, tmp_path / "models", model_id="../evil")
    _put(recipe, f"{CHAIN}/frame_subsampling_factor", "three")
    with pytest.raises(ModelError, match="frame_subsampling_factor"):
        _import(recipe, tmp_path / "models")


def test_silence_phones_prefers_silence_csl(tmp_path: Path) -> None:
    assert silence_phones(tmp_path) is None
    _put(tmp_path, "phones.txt", PHONES_TXT)
    assert silence_phones(tmp_path) == "1:2:3:5"
    _put(tmp_path, "phones/silence.csl", "1:2:3:4:5\n")
    assert silence_phones(tmp_path) == "1:2:3:4:5"


def test_prefers_the_extractor_matching_the_chain_dir(recipe: Path, tmp_path: Path) -> None:
    for name in ("final.ie", "final.dubm", "final.mat", "global_cmvn.stats", "online_cmvn.conf"):
        _put(recipe, f"exp/nnet3/extractor/{name}")
    folder = _import(recipe, tmp_path / "models")
    assert (folder / "ivector/final.ie").resolve() == (recipe / EXTRACTOR / "final.ie")
