from __future__ import annotations

from pathlib import Path

import pytest

from dsac_asr.errors import ModelNotFoundError, NoModelForRequestError
from dsac_asr.models.manifest import Band, ModelManifest, write_manifest
from dsac_asr.models.registry import ModelRegistry, RouteRequest


def _install(root: Path, model_id: str, **fields: object) -> None:
    folder = root / model_id
    folder.mkdir(parents=True)
    manifest = ModelManifest.model_validate({"id": model_id, "engine": "kaldi"} | fields)
    write_manifest(folder, manifest)


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    _install(tmp_path, "zul-nb", languages=["zul"], band="nb")
    _install(tmp_path, "zul-nb-parl", languages=["zul"], band="nb", domain="PARL")
    _install(tmp_path, "eng-nb", languages=["eng"], band="nb")
    _install(tmp_path, "sot-bb", languages=["sto"], band="bb")
    return ModelRegistry(tmp_path)


def test_bundled_models_are_listed_after_installed_ones(registry: ModelRegistry) -> None:
    ids = [m.id for m in registry.models()]
    assert ids[:4] == ["eng-nb", "sot-bb", "zul-nb", "zul-nb-parl"]
    assert {"whisper-base", "whisper-tiny.en"} <= set(ids[4:])


def test_exact_band_wins(registry: ModelRegistry) -> None:
    route = registry.route(RouteRequest("eng", Band.NB))
    assert route.model.id == "eng-nb"
    assert route.notes == ()
    assert route.sample_rate_hz == 8000


def test_broadband_english_prefers_the_16k_bundled_model(registry: ModelRegistry) -> None:
    route = registry.route(RouteRequest("eng", Band.BB))
    assert route.model.id == "whisper-base"
    assert route.notes == ()


def test_narrowband_with_only_16k_model_upsamples_and_says_so(tmp_path: Path) -> None:
    route = ModelRegistry(tmp_path).route(RouteRequest("afr", Band.NB))
    assert route.model.id == "whisper-base"
    assert route.sample_rate_hz == 16000
    assert "upsampled" in route.notes[0]


def test_broadband_with_only_8k_model_downsamples(registry: ModelRegistry) -> None:
    route = registry.route(RouteRequest("zul", Band.BB))
    assert route.model.id == "zul-nb"
    assert "downsampled" in route.notes[0]


def test_seed_code_sto_routes_to_sesotho(registry: ModelRegistry) -> None:
    assert registry.route(RouteRequest("sot", Band.BB)).model.id == "sot-bb"


def test_domain_is_matched_case_insensitively(registry: ModelRegistry) -> None:
    assert registry.route(RouteRequest("zul", Band.NB, domain="parl")).model.id == "zul-nb-parl"
    assert registry.route(RouteRequest("zul", Band.NB)).model.id == "zul-nb"


def test_unknown_domain_lists_the_available_ones(registry: ModelRegistry) -> None:
    with pytest.raises(NoModelForRequestError, match="domains available: PARL"):
        registry.route(RouteRequest("zul", Band.NB, domain="MED"))


def test_language_without_model_explains_how_to_add_one(registry: ModelRegistry) -> None:
    with pytest.raises(NoModelForRequestError) as caught:
        registry.route(RouteRequest("xho", Band.NB))
    message = caught.value.message
    assert "isiXhosa (xho)" in message
    assert "whisper-base (eng, afr)" in message
    assert "import-kaldi" in message


def test_explicit_model_must_serve_the_language(registry: ModelRegistry) -> None:
    assert registry.route(RouteRequest("eng", Band.BB, model_id="whisper-tiny.en")).notes == ()
    with pytest.raises(NoModelForRequestError, match="does not serve Afrikaans"):
        registry.route(RouteRequest("afr", Band.BB, model_id="whisper-tiny.en"))
    with pytest.raises(ModelNotFoundError, match="no model 'nope'"):
        registry.route(RouteRequest("eng", Band.BB, model_id="nope"))


def test_multilingual_needs_a_model_with_several_languages(registry: ModelRegistry) -> None:
    assert registry.route(RouteRequest("mul", Band.BB)).model.id == "whisper-base"


def test_installed_model_overrides_bundled_id(tmp_path: Path) -> None:
    _install(tmp_path, "whisper-base", languages=["eng"], band="nb")
    registry = ModelRegistry(tmp_path)
    matches = [m for m in registry.models() if m.id == "whisper-base"]
    assert len(matches) == 1
    assert not matches[0].bundled


def test_broken_manifest_is_reported_not_fatal(registry: ModelRegistry, tmp_path: Path) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "manifest.json").write_text("{not json")
    models, broken = registry.scan()
    assert [b.path.name for b in broken] == ["bad"]
    assert "zul-nb" in {m.id for m in models}


def test_band_parse_accepts_seed_values() -> None:
    assert Band.parse("NB") is Band.NB
    assert Band.parse(8000) is Band.NB
    assert Band.parse("BB") is Band.BB
    assert Band.parse("16000") is Band.BB
    with pytest.raises(ValueError, match="unknown band"):
        Band.parse("44100")


def test_whisper_models_carry_the_shipped_parliament_domain(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    assert "PARL" in registry.get("whisper-base").domains
    route = registry.route(RouteRequest("eng", Band.BB, domain="parl"))
    assert route.model.id == "whisper-base" and route.domain == "PARL"
    assert route.domain_prompt is not None and "Honourable" in route.domain_prompt
    assert "#" not in route.domain_prompt  # comment lines are not part of the prompt


def test_a_kaldi_graph_domain_wins_over_a_prompt_domain(registry: ModelRegistry) -> None:
    route = registry.route(RouteRequest("zul", Band.NB, domain="PARL"))
    assert route.model.id == "zul-nb-parl"
    assert route.domain_prompt is None  # the graph is the domain


def test_operator_domain_files_for_bundled_and_installed_models(tmp_path: Path) -> None:
    (tmp_path / "whisper-base" / "domains").mkdir(parents=True)
    (tmp_path / "whisper-base" / "domains" / "health.txt").write_text("# c\nTB, HIV, ARVs.\n")
    _install(tmp_path, "afr-bb", languages=["afr"], band="bb", engine="whisper")
    (tmp_path / "afr-bb" / "domains").mkdir()
    (tmp_path / "afr-bb" / "domains" / "farm.txt").write_text("Boer, oes, trekker.")
    registry = ModelRegistry(tmp_path)
    assert registry.get("whisper-base").domains == ["HEALTH", "PARL"]
    assert registry.get("afr-bb").domains == ["FARM", "PARL"]
    route = registry.route(RouteRequest("eng", Band.BB, domain="health"))
    assert route.domain_prompt == "TB, HIV, ARVs."
    with pytest.raises(NoModelForRequestError, match="has no domain 'FARM'"):
        registry.route(RouteRequest("eng", Band.BB, domain="FARM", model_id="whisper-base"))


def test_a_model_made_for_the_language_beats_the_bundled_multilingual_one(
    tmp_path: Path,
) -> None:
    _install(tmp_path, "afr-whisper", engine="whisper", languages=["afr"], band="bb")
    assert ModelRegistry(tmp_path).route(RouteRequest("afr", Band.BB)).model.id == "afr-whisper"
    assert ModelRegistry(tmp_path).route(RouteRequest("eng", Band.BB)).model.id == "whisper-base"


def test_priority_overrides_the_preference_for_a_single_language_model(tmp_path: Path) -> None:
    _install(tmp_path, "afr-ctc", engine="ctc", languages=["afr"], band="bb", priority=-1)
    _install(tmp_path, "mms", engine="ctc", languages=["afr", "zul"], band="bb", priority=1)
    assert ModelRegistry(tmp_path).route(RouteRequest("afr", Band.BB)).model.id == "mms"


def test_multilingual_mode_prefers_a_whisper_model_that_can_identify_languages(
    tmp_path: Path,
) -> None:
    _install(tmp_path, "mms", engine="ctc", languages=["afr", "eng"], band="bb")
    assert ModelRegistry(tmp_path).route(RouteRequest("mul", Band.BB)).model.id == "whisper-base"


def test_narrowband_whisper_and_ctc_models_still_take_16k_audio(tmp_path: Path) -> None:
    _install(tmp_path, "zul-phone", engine="ctc", languages=["zul"], band="nb")
    _install(tmp_path, "zul-kaldi", languages=["zul"], band="nb", priority=-1)
    registry = ModelRegistry(tmp_path)
    assert registry.route(RouteRequest("zul", Band.NB)).sample_rate_hz == 16000
    route = registry.route(RouteRequest("zul", Band.BB))
    assert route.model.id == "zul-phone" and route.notes == (
        "no 16 kHz model for zul: used zul-phone (trained on 8 kHz audio)",
    )
    assert registry.route(RouteRequest("zul", Band.NB, model_id="zul-kaldi")).sample_rate_hz == 8000


def test_bundled_base_warns_about_its_afrikaans(registry: ModelRegistry) -> None:
    base = registry.get("whisper-base")
    assert "Dutch-like" in base.manifest.quality["afr"]
    assert "eng" not in base.manifest.quality


def test_no_model_message_names_every_import_command(registry: ModelRegistry) -> None:
    with pytest.raises(NoModelForRequestError) as caught:
        registry.route(RouteRequest("xho", Band.NB))
    assert "import-whisper" in caught.value.message and "import-ctc" in caught.value.message
