import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from server.cli.main import app

runner = CliRunner()

TRAINING = {
    "model": "llama3-70b",
    "cluster": {"gpu": "H100-SXM-80GB", "num_gpus": 512, "gpus_per_node": 8,
                "peak_tflops": None, "memory_gib": None},
    "plan": {"tp": 8, "pp": 4, "dp": 16, "cp": 1, "virtual_stages": 1, "micro_batch_size": 1,
             "global_batch_size": 1024, "seq_len": 4096, "zero_stage": 1,
             "recompute": "selective", "sequence_parallel": True, "precision": "bf16"},
}


def _write(tmp_path: Path, doc: object) -> str:
    path = tmp_path / "in.json"
    path.write_text(json.dumps(doc))
    return str(path)


def test_training_json_from_file(tmp_path: Path) -> None:
    res = runner.invoke(app, ["hw", "training", _write(tmp_path, TRAINING), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["params"] > 70e9
    assert out["fits"] is True
    assert set(out["memory_gib"]) >= {"weights", "gradients", "optimizer", "activations", "total"}


def test_training_table_from_stdin() -> None:
    res = runner.invoke(app, ["hw", "training"], input=json.dumps(TRAINING))
    assert res.exit_code == 0, res.output
    assert "mfu" in res.stdout
    assert "memory_gib.total" in res.stdout
    assert not res.stdout.lstrip().startswith("{")


@pytest.mark.parametrize(
    ("plan_change", "named"),
    [({"tp": "eight"}, "plan.tp"), ({"recompute": "sometimes"}, "plan.recompute"),
     ({"dp": 3}, "num_gpus")],
)
def test_bad_training_input_exits_2_naming_the_field(plan_change: dict, named: str) -> None:
    doc = json.loads(json.dumps(TRAINING))
    doc["plan"].update(plan_change)
    res = runner.invoke(app, ["hw", "training"], input=json.dumps(doc))
    assert res.exit_code == 2
    assert named in res.stderr


def test_invalid_json_exits_2() -> None:
    res = runner.invoke(app, ["hw", "training"], input="{not json")
    assert res.exit_code == 2
    assert "not valid JSON" in res.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    res = runner.invoke(app, ["hw", "serving", str(tmp_path / "absent.json")])
    assert res.exit_code == 2


def test_serving_json() -> None:
    doc = {"model": "llama3.1-405b", "gpu": "H100", "tp": 8, "weight_dtype": "fp8",
           "kv_dtype": "bf16", "gpu_memory_utilization": 0.9, "max_model_len": 8192,
           "block_size": 16}
    res = runner.invoke(app, ["hw", "serving", "--json"], input=json.dumps(doc))
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["kv_bytes_per_token_per_gpu"] == 64512
    for key in ("weights_gib_per_gpu", "kv_pool_gib_per_gpu", "kv_capacity_tokens",
                "max_concurrency_at_max_len", "prefill_s", "decode_s_per_token", "fits"):
        assert key in out


def test_serving_bad_field_named() -> None:
    doc = {"model": "llama3-8b", "gpu": "H100", "gpu_memory_utilization": 1.5,
           "max_model_len": 8192}
    res = runner.invoke(app, ["hw", "serving"], input=json.dumps(doc))
    assert res.exit_code == 2
    assert "gpu_memory_utilization" in res.stderr


def test_serving_perf_json_and_bad_field() -> None:
    doc = {"model": "llama3-8b", "gpu": "H100 SXM5", "batch_size": 64, "prompt_len": 1024,
           "output_len": 256}
    res = runner.invoke(app, ["hw", "serving-perf", "--json"], input=json.dumps(doc))
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert 0 < out["ttft_s"] < out["request_latency_s"]
    assert out["decode_tokens_per_s"] == pytest.approx(64 / out["itl_s"])
    assert out["fits"] is True
    res = runner.invoke(app, ["hw", "serving-perf"], input=json.dumps({**doc, "output_len": 0}))
    assert res.exit_code == 2
    assert "output_len" in res.stderr


def test_collective_json() -> None:
    doc = {"op": "all_reduce", "bytes": 2**30, "ranks": 8, "link": "NVLink4",
           "ranks_per_node": 8}
    res = runner.invoke(app, ["hw", "collective", "--json"], input=json.dumps(doc))
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["busbw_gbps"] == pytest.approx(480, rel=0.02)  # NVLink SHARP, as NCCL picks


def test_checkpoint_table_and_json() -> None:
    doc = {"mtbf_s": 900, "checkpoint_s": 300, "restart_s": 600}
    res = runner.invoke(app, ["hw", "checkpoint"], input=json.dumps(doc))
    assert res.exit_code == 0
    assert "daly_interval_s" in res.stdout
    res = runner.invoke(app, ["hw", "checkpoint", "--json"], input=json.dumps(doc))
    assert json.loads(res.stdout)["daly_interval_s"] == pytest.approx(548.5, rel=0.01)


def test_search_training_table_and_json() -> None:
    doc = {"model": "llama3-8b", "cluster": {"gpu": "H100", "num_gpus": 16},
           "global_batch_size": 64, "seq_len": 4096, "top": 3}
    res = runner.invoke(app, ["hw", "search-training"], input=json.dumps(doc))
    assert res.exit_code == 0, res.output
    assert "feasible" in res.stdout and "MFU" in res.stdout
    res = runner.invoke(app, ["hw", "search-training", "--json"], input=json.dumps(doc))
    out = json.loads(res.stdout)
    assert 1 <= len(out["feasible"]) <= 3
    assert "rejected" in out


def test_catalog_lists_sources() -> None:
    res = runner.invoke(app, ["hw", "catalog", "--json"])
    assert res.exit_code == 0
    out = json.loads(res.stdout)
    assert "H100-SXM-80GB" in out["gpus"] and "IB-NDR" in out["links"]
    assert "llama3-70b" in out["models"]
    assert all(g["source"] for g in out["gpus"].values())
    res = runner.invoke(app, ["hw", "catalog"])
    assert "source:" in res.stdout and "MI300X" in res.stdout
    # The efficiency figures the predictions rest on are shown next to each GPU.
    h100 = res.stdout.split("H100-SXM-80GB", 1)[1].split("source:", 1)[0]
    assert "GEMM 71% / 63% of peak" in h100 and "flash2 34%" in h100


def test_unknown_catalog_names_are_reported_at_their_fields() -> None:
    doc = json.loads(json.dumps(TRAINING))
    doc["model"] = "llama9"
    doc["cluster"]["gpu"] = "Z80"
    res = runner.invoke(app, ["hw", "training"], input=json.dumps(doc))
    assert res.exit_code == 2
    assert "model: Value error, unknown model 'llama9'; known:" in res.stderr
    assert "cluster.gpu: Value error, unknown GPU 'Z80'" in res.stderr


def test_search_rejects_zero_micro_batch() -> None:
    doc = {"model": "llama3-8b", "cluster": {"gpu": "H100", "num_gpus": 8},
           "global_batch_size": 64, "seq_len": 4096, "micro_batch_sizes": [0]}
    res = runner.invoke(app, ["hw", "search-training"], input=json.dumps(doc))
    assert res.exit_code == 2
    assert "micro_batch_sizes.0" in res.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [('{"model": "llama3-8b", "cluster": {"gpu": "H100", "num_gpus": 8, "memory_gib": Infinity},'
      ' "plan": {"tp": 8, "global_batch_size": 8, "seq_len": 4096}}', "Infinity is not a finite"),
     ('{"model": {"num_layers": 2, "hidden_size": 1e400, "num_attention_heads": 1, '
      '"vocab_size": 10}}', "1e400 is not a finite number"),
     ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
     ('{"x": ' + "9" * 5000 + "}", "number out of range"),
     ('{"model": "llama3-8b", "cluster": {"gpu": "H100", "num_gpus": 8},'
      ' "plan": {"tp": true, "dp": 8, "global_batch_size": 8, "seq_len": 4096}}',
      "plan.tp: Value error, must be a number, not true/false"),
     ('{"model": "llama3-8b", "cluster": {"gpu": "H100", "num_gpus": 8},'
      ' "plan": {"tp": 8, "global_batch_size": 8, "seq_len": 1000000000000}}',
      "plan.seq_len: Input should be less than or equal to 16777216")],
    ids=["infinity", "1e400", "deep", "huge-int", "bool-as-count", "absurd-seq"],
)
def test_hostile_documents_get_a_message_and_exit_2(text: str, message: str) -> None:
    res = runner.invoke(app, ["hw", "training"], input=text)
    assert res.exit_code == 2, res.output
    assert message in res.stderr
    assert "Traceback" not in res.output
    assert isinstance(res.exception, SystemExit)


def test_cli_names_gpus_as_clouds_write_them() -> None:
    doc = json.loads(json.dumps(TRAINING))
    doc["cluster"]["gpu"] = "p5.48xlarge"
    res = runner.invoke(app, ["hw", "training", "--json"], input=json.dumps(doc))
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["peak_tflops"] == pytest.approx(989.4)


def test_fast_path_runs_hw_without_importing_the_server(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = ("import sys; sys.argv = ['burnin', 'hw', 'training', '--json', sys.argv[1]]\n"
            "from server.cli.main import main\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print(sorted(m for m in sys.modules if m.startswith(('sqlalchemy', 'fastapi'))))")
    out = subprocess.run([sys.executable, "-c", code, _write(tmp_path, TRAINING)],
                         capture_output=True, text=True, check=True)
    assert out.stdout.rstrip().endswith("[]"), out.stdout[-300:]
    assert '"mfu"' in out.stdout
