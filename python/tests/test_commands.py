"""Each function of the module against the CLI command it mirrors: same dicts as --json, same
bytes for saved graphs, same arrays for run."""
import json
import threading

import numpy as np
import pytest

import tffreeze
from conftest import fixture_path, save_npy

FC_LAYERS = "tensorflow-onnx/tests/models/fc-layers/frozen.pb"
REGRESSION_META = "tensorflow-onnx/tests/models/regression/checkpoint/model.meta"
TF2_SAVED_MODEL = "tensorflow-serving/tensorflow_serving/servables/tensorflow/testdata/saved_model_half_plus_two_tf2_cpu/00000123"
TFJS_MODEL = "tensorflow-tfjs/tfjs-inference/test_data/model.json"
DS_CNN = "arm-ml-kws-for-mcu/Pretrained_models/DS_CNN/DS_CNN_S.pb"


def freeze_kwargs(args):
    """freeze.args (the CLI's flags) as tffreeze.freeze's keyword arguments."""
    kwargs, sets, replace = {}, {}, {}
    it = iter(args)
    for flag in it:
        if flag == "-c":
            kwargs["checkpoint"] = next(it)
        elif flag == "--outputs":
            kwargs["outputs"] = next(it).split(",")
        elif flag == "--set":
            name, value = next(it).split("=", 1)
            sets[name] = value
        elif flag == "--replace-input":
            name, value = next(it).split("=", 1)
            replace[name] = value
        elif flag == "--use-moving-averages":
            kwargs["use_moving_averages"] = True
        else:
            raise AssertionError(f"freeze.args: unexpected {flag}")
    return dict(kwargs, set=sets, replace_input=replace)


@pytest.mark.parametrize("relative", [FC_LAYERS, REGRESSION_META, TF2_SAVED_MODEL, TFJS_MODEL,
                                      "tensorflow-onnx/tests/models/regression/checkpoint/model",
                                      "tensor2tensor/tensor2tensor/test_data/transformer_test_ckpt"])
def test_inspect_equals_cli_json(cli, relative):
    path = fixture_path(relative)
    assert tffreeze.inspect(path) == cli.json("inspect", path, "--json")


def test_validate_equals_cli(cli, tmp_path):
    good = fixture_path(FC_LAYERS)
    assert tffreeze.validate(good) == []
    assert cli("validate", good).returncode == 0
    bad = fixture_path("openvino/models_pbtxt/dynpart_negative_partitions.pbtxt")
    problems = tffreeze.validate(bad)
    result = cli("validate", bad)
    assert problems and result.returncode == 1
    assert [f"{bad}: {p}" for p in problems] == result.stdout.splitlines()


def test_freeze_saves_the_cli_bytes(cli, tmp_path):
    meta = fixture_path(REGRESSION_META)
    graph = tffreeze.freeze(meta)
    for ext in (".pb", ".pbtxt"):
        graph.save(tmp_path / f"py{ext}")
        cli("freeze", meta, "-o", tmp_path / f"cli{ext}", check=True)
        assert (tmp_path / f"py{ext}").read_bytes() == (tmp_path / f"cli{ext}").read_bytes()
    assert graph.to_bytes() == (tmp_path / "cli.pb").read_bytes()
    assert graph.report["outputs"] == ["truediv"] and len(graph.report["variables"]) == 2
    cli("freeze", meta, "-o", tmp_path / "cli2.pb", "--report", tmp_path / "report.json", check=True)
    assert graph.report == json.loads((tmp_path / "report.json").read_text())


def test_freeze_optimize_of_a_training_checkpoint_equals_cli(cli, mobilenet, tmp_path):
    out, args = mobilenet
    graph = tffreeze.freeze(str(out / "model.ckpt.meta"), optimize=True, target="opencv", **freeze_kwargs(args))
    graph.save(tmp_path / "py.pb")
    cli("freeze", out / "model.ckpt.meta", *args, "--optimize", "--target", "opencv", "-o", tmp_path / "cli.pb", check=True)
    assert (tmp_path / "py.pb").read_bytes() == (tmp_path / "cli.pb").read_bytes()
    assert graph.report["optimize"]["target"] == "opencv"
    assert all(v["within_tolerance"] for v in graph.report["optimize"]["verification"].values())
    assert graph.outputs == [{"name": "MobilenetV1/Predictions/Softmax", "op": "Softmax", "dtype": "float32", "shape": [1, 10]}]
    assert graph.inputs[0]["name"] == "input_batch" and graph.inputs[0]["shape"] == [1, 32, 32, 3]
    assert graph.ops == cli.json("inspect", tmp_path / "cli.pb", "--json")["ops"]


def test_optimize_equals_cli(cli, mobilenet, tmp_path):
    out, args = mobilenet
    tffreeze.freeze(str(out / "model.ckpt.meta"), **freeze_kwargs(args)).save(tmp_path / "frozen-mnv1.pb")
    model = str(tmp_path / "frozen-mnv1.pb")
    for target in ("generic", "opencv", "tflite"):
        graph = tffreeze.optimize(model, target=target)
        graph.save(tmp_path / f"py-{target}.pb")
        cli("optimize", model, "--target", target, "-o", tmp_path / f"cli-{target}.pb", check=True)
        assert (tmp_path / f"py-{target}.pb").read_bytes() == (tmp_path / f"cli-{target}.pb").read_bytes()
    graph.save(tmp_path / "py.pbtxt")
    cli("optimize", model, "--target", "tflite", "-o", tmp_path / "cli.pbtxt", check=True)
    assert (tmp_path / "py.pbtxt").read_bytes() == (tmp_path / "cli.pbtxt").read_bytes()
    # A Graph in, as a file in: the same result.
    frozen = tffreeze.freeze(fixture_path(REGRESSION_META))
    frozen.save(tmp_path / "frozen.pb")
    a = tffreeze.optimize(frozen, transforms="strip_unused_nodes fold_constants sort_by_execution_order")
    cli("optimize", tmp_path / "frozen.pb", "--transforms", "strip_unused_nodes fold_constants sort_by_execution_order",
        "-o", tmp_path / "cli-t.pb", check=True)
    assert a.to_bytes() == (tmp_path / "cli-t.pb").read_bytes()
    assert [p["pass"] for p in a.report["passes"]] == ["strip_unused_nodes", "fold_constants", "sort_by_execution_order"]


def test_run_equals_cli_arrays(cli, tmp_path):
    model = fixture_path(FC_LAYERS)
    x = np.random.default_rng(1).standard_normal((3, 784)).astype(np.float32)
    result = tffreeze.run(model, {"X": x})
    cli("run", model, "-i", "X=" + save_npy(tmp_path / "x.npy", x), "--out-dir", tmp_path, check=True)
    want = np.load(tmp_path / "output.npy")
    assert list(result) == ["output"]
    assert result["output"].dtype == want.dtype and np.array_equal(result["output"], want)
    # A TF 2 SavedModel (frozen in memory first) and a model with its checkpoint.
    saved = fixture_path(TF2_SAVED_MODEL)
    three = np.array([3], np.float32)
    cli("run", saved, "-i", "x=" + save_npy(tmp_path / "x3.npy", three), "--out-dir", tmp_path / "tf2", check=True)
    assert tffreeze.run(saved, {"x": three}) == {"y": pytest.approx(np.load(tmp_path / "tf2" / "y.npy"))}
    assert tffreeze.run(saved, {"x": three})["y"].tolist() == [3.5]
    meta = fixture_path(REGRESSION_META)
    feeds = {"X": np.array([1, 2], np.float32)}
    a = tffreeze.run(meta, feeds, outputs=["pred"], checkpoint=fixture_path("tensorflow-onnx/tests/models/regression/checkpoint/model"))
    b = tffreeze.freeze(meta, outputs=["pred"]).run(feeds)
    assert np.array_equal(a["pred"], b["pred"])


def test_graph_run_equals_run(mobilenet):
    out, args = mobilenet
    graph = tffreeze.freeze(str(out / "model.ckpt.meta"), **freeze_kwargs(args))
    batch = np.random.default_rng(2).random((1, 32, 32, 3), dtype=np.float32)
    path = out.parent / "frozen.pb"
    graph.save(path)
    a = graph.run({"input_batch": batch})["MobilenetV1/Predictions/Softmax"]
    b = tffreeze.run(str(path), {"input_batch": batch}, outputs=["MobilenetV1/Predictions/Softmax"])["MobilenetV1/Predictions/Softmax"]
    assert a.shape == (1, 10) and np.array_equal(a, b)
    assert not a.flags.owndata  # the result's memory is the tensor's, not a copy


def test_verify_equals_cli(cli, tmp_path):
    model = fixture_path(FC_LAYERS)
    optimized = tffreeze.optimize(model)
    optimized.save(tmp_path / "o.pb")
    diffs = tffreeze.verify(model, str(tmp_path / "o.pb"), random=2)
    result = cli("verify", model, tmp_path / "o.pb", "--random", "2")
    assert result.returncode == 0 and set(diffs) == {"output"}
    line = result.stdout.splitlines()[0]
    assert line.startswith("output: max abs ") and diffs["output"]["within_tolerance"]
    assert float(line.split()[3].rstrip(",")) == pytest.approx(diffs["output"]["max_abs"], rel=1e-5, abs=1e-12)
    x = np.ones((2, 784), np.float32)
    given = tffreeze.verify(model, optimized, feeds={"X": x})
    assert given["output"]["max_abs"] <= 1e-5
    # Graphs as arguments, compared with themselves: exactly equal.
    other = tffreeze.freeze(fixture_path(REGRESSION_META), outputs=["pred"])
    d = tffreeze.verify(other, other)
    assert d["pred"]["within_tolerance"] and d["pred"]["max_abs"] == 0


def test_check_equals_cli(cli):
    model = fixture_path(DS_CNN)
    for target in ("opencv", "tflite"):
        findings = tffreeze.check(model, target)
        result = cli("check", model, "--target", target)
        lines = [f"{f['node']} ({f['op']}): {f['rule']}; fix: {f['fix']}" for f in findings]
        assert result.returncode == (1 if findings else 0)
        assert lines == result.stdout.splitlines()[:len(lines)]
    assert findings and set(findings[0]) == {"node", "op", "rule", "fix"}


def test_long_calls_release_the_gil(mobilenet):
    out, args = mobilenet
    kwargs = freeze_kwargs(args)
    done = []
    thread = threading.Thread(target=lambda: done.append(tffreeze.freeze(str(out / "model.ckpt.meta"), optimize=True, **kwargs)))
    spins = 0
    thread.start()
    while thread.is_alive():
        spins += 1
    thread.join()
    assert done and spins > 1000, spins


def test_save_onnx_and_tfjs_equal_cli(cli, mobilenet, tmp_path):
    out, args = mobilenet
    kwargs = freeze_kwargs(args)
    graph = tffreeze.freeze(str(out / "model.ckpt.meta"), **kwargs)
    graph.save(tmp_path / "py.onnx")
    cli("freeze", out / "model.ckpt.meta", *args, "-o", tmp_path / "cli.onnx", check=True)
    assert (tmp_path / "py.onnx").read_bytes() == (tmp_path / "cli.onnx").read_bytes()
    assert tffreeze.inspect(str(tmp_path / "py.onnx")) == cli.json("inspect", tmp_path / "cli.onnx", "--json")
    graph.save(tmp_path / "frozen.pb")
    (tmp_path / "py").mkdir(), (tmp_path / "cli").mkdir()
    graph.save(tmp_path / "py" / "model.json")
    cli("convert", tmp_path / "frozen.pb", tmp_path / "cli" / "model.json", check=True)
    for name in sorted(p.name for p in (tmp_path / "cli").iterdir()):
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    # check on the ONNX file: the ONNX rules, as the CLI prints them.
    findings = tffreeze.check(str(tmp_path / "py.onnx"), "opencv")
    result = cli("check", tmp_path / "py.onnx", "--target", "opencv")
    assert result.returncode == (1 if findings else 0)
    lines = [f"{f['node']}" + (f" ({f['op']})" if f["op"] else "") + f": {f['rule']}" for f in findings]
    assert lines == result.stdout.splitlines()[:len(lines)]


def test_graph_outputs_have_dtype_and_shape(mobilenet):
    out, args = mobilenet
    kwargs = freeze_kwargs(args)
    kwargs["replace_input"] = {"input_batch": "float32[-1,32,32,3]"}  # an unknown batch dimension
    graph = tffreeze.freeze(str(out / "model.ckpt.meta"), **kwargs)
    assert graph.outputs == [{"name": "MobilenetV1/Predictions/Softmax", "op": "Softmax", "dtype": "float32", "shape": [-1, 10]}]
    assert graph.inputs[0]["shape"] == [-1, 32, 32, 3]
