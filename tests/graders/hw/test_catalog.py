import pytest

from graders.hw import GPUS, LINKS, MODELS, get_gpu, get_link, get_model
from graders.hw.transformer import count_params


def test_lookup_is_case_insensitive_and_knows_aliases() -> None:
    assert get_gpu("h100").name == "H100-SXM-80GB"
    assert get_gpu("A100-80GB").name == "A100-SXM4-80GB"
    assert get_link("nvlink4").achievable_busbw_gbps == 370
    assert get_model("Llama3.1-70B") == get_model("llama3-70b")


@pytest.mark.parametrize(
    ("getter", "what"), [(get_gpu, "GPU"), (get_link, "link"), (get_model, "model")]
)
def test_unknown_name_lists_known_names(getter: object, what: str) -> None:
    with pytest.raises(ValueError) as exc:
        getter("no-such-thing")  # type: ignore[operator]
    assert f"unknown {what}" in str(exc.value)
    assert "known:" in str(exc.value)


def test_every_entry_has_a_source() -> None:
    for table in (GPUS, LINKS, MODELS):
        for entry in table.values():
            assert entry.source.strip()


def test_dense_peaks_are_half_the_sparse_datasheet_figures() -> None:
    h100 = get_gpu("H100-SXM-80GB")
    assert h100.peak("bf16") == pytest.approx(1978.9 / 2, rel=1e-3)
    assert h100.peak("fp8") == pytest.approx(3957.8 / 2, rel=1e-3)
    with pytest.raises(ValueError):
        get_gpu("A100-SXM4-80GB").peak("fp8")


def test_achievable_bandwidth_below_line_rate_for_nvlink() -> None:
    for link in LINKS.values():
        assert link.achievable_busbw_gbps <= link.line_rate_gbps


@pytest.mark.parametrize(
    ("name", "billions"),
    [
        ("llama2-7b", 6.74),
        ("llama2-13b", 13.02),
        ("llama2-70b", 68.98),
        ("llama3-8b", 8.03),
        ("llama3-70b", 70.55),
        ("llama3.1-405b", 405.85),
        ("gpt3-175b", 174.6),
    ],
)
def test_preset_parameter_counts_match_model_cards(name: str, billions: float) -> None:
    assert count_params(get_model(name)).total / 1e9 == pytest.approx(billions, rel=0.005)


def test_mixtral_total_and_active_parameters() -> None:
    pc = count_params(get_model("mixtral-8x7b"))
    assert pc.total / 1e9 == pytest.approx(46.7, rel=0.01)
    assert pc.active / 1e9 == pytest.approx(12.9, rel=0.01)


@pytest.mark.parametrize(
    ("written", "canonical"),
    [("A100-SXM-80GB", "A100-SXM4-80GB"), ("A100-80GB", "A100-SXM4-80GB"),
     ("A100 SXM4 40GB", "A100-SXM4-40GB"), ("H100 SXM5", "H100-SXM-80GB"),
     ("NVIDIA H100 SXM5 80GB HBM3", "H100-SXM-80GB"), ("h100_sxm", "H100-SXM-80GB"),
     ("p4d.24xlarge", "A100-SXM4-40GB"), ("p5.48xlarge", "H100-SXM-80GB"),
     ("p5en.48xlarge", "H200-SXM-141GB"), ("a3-highgpu-8g", "H100-SXM-80GB"),
     ("a2-ultragpu-8g", "A100-SXM4-80GB"), ("Standard_ND96isr_H100_v5", "H100-SXM-80GB"),
     ("AMD Instinct MI300X", "MI300X")],
)
def test_gpu_names_as_vendors_and_clouds_write_them(written: str, canonical: str) -> None:
    assert get_gpu(written).name == canonical


@pytest.mark.parametrize("other_product", ["A100 PCIe 80GB", "H100 NVL", "A100-SXM-90GB",
                                           "p5.48xlarg"])
def test_other_products_are_not_folded_into_a_catalog_gpu(other_product: str) -> None:
    with pytest.raises(ValueError, match="unknown GPU"):
        get_gpu(other_product)
