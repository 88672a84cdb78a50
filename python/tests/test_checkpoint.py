"""tffreeze.Checkpoint: a lazy read-only mapping whose arrays equal `ckpt dump`, and whose V2
numeric tensors are views of the mapped file."""
import collections.abc
import subprocess

import numpy as np
import pytest

import tffreeze
from conftest import MODELGEN, fixture_path

REGRESSION = "tensorflow-onnx/tests/models/regression/checkpoint/model"
TF2 = "tensorflow-serving/tensorflow_serving/servables/tensorflow/testdata/saved_model_half_plus_two_tf2_cpu/00000123"
V1 = "tensorflow-serving/tensorflow_serving/session_bundle/testdata/half_plus_two/00000123/export-00000-of-00001"
SHARDED = "tensor2tensor/tensor2tensor/test_data/transformer_test_ckpt"


def assert_equals_cli(cli, tmp_path, path, names):
    ckpt = tffreeze.Checkpoint(path)
    listing = cli.json("ckpt", "list", path, "--json")
    assert list(ckpt) == [t["name"] for t in listing]
    for t in listing:
        assert list(ckpt.shapes[t["name"]]) == t["shape"]
    for name in names:
        if ckpt.dtypes[name] == np.dtype(object):
            continue  # string tensors: `ckpt dump -o` writes numeric .npy files only
        out = tmp_path / "t.npy"
        cli("ckpt", "dump", path, name, "-o", out, check=True)
        want = np.load(out)
        got = ckpt[name]
        assert got.dtype == want.dtype == ckpt.dtypes[name] and got.shape == want.shape
        assert np.array_equal(got, want)
    return ckpt


def test_values_equal_ckpt_dump(cli, tmp_path):
    path = fixture_path(REGRESSION)
    ckpt = assert_equals_cli(cli, tmp_path, path, tffreeze.Checkpoint(path).keys())
    assert isinstance(ckpt, collections.abc.Mapping) and len(ckpt) == len(ckpt.keys())
    assert dict(ckpt.items()).keys() == set(ckpt.keys())
    assert "W" in ckpt and "nope" not in ckpt and ckpt.get("nope") is None
    with pytest.raises(KeyError):
        ckpt["nope"]
    assert ckpt.object_graph is None


def test_sharded_v1_and_tf2_checkpoints(cli, tmp_path):
    sharded = fixture_path(SHARDED)
    names = tffreeze.Checkpoint(sharded).keys()
    assert_equals_cli(cli, tmp_path, sharded, names[:20])
    v1 = fixture_path(V1)
    ckpt = assert_equals_cli(cli, tmp_path, v1, tffreeze.Checkpoint(v1).keys())
    assert float(ckpt["a"]) == 0.5 and float(ckpt["b"]) == 2.0
    tf2 = fixture_path(TF2)
    ckpt = tffreeze.Checkpoint(tf2)
    assert ckpt.object_graph == cli.json("inspect", tf2 + "/variables", "--json")["object_graph"]
    strings = ckpt["_CHECKPOINTABLE_OBJECT_GRAPH"]
    assert strings.dtype == object and isinstance(strings.item(), bytes)


def test_arrays_are_read_only_views_of_the_file(tmp_path):
    out = tmp_path / "mnv1"
    subprocess.run([MODELGEN, "mobilenet_v1", "--out", str(out), "--image-size", "32", "--classes", "10",
                    "--width-multiplier", "0.25"], check=True, capture_output=True)
    ckpt = tffreeze.Checkpoint(str(out / "model.ckpt"))
    name = next(n for n in ckpt if ckpt.dtypes[n] == np.float32 and len(ckpt.shapes[n]) == 4)
    array = ckpt[name]
    assert not array.flags.owndata and not array.flags.writeable
    with pytest.raises(ValueError):
        array[...] = 0
    del ckpt  # the array keeps the mapping alive
    assert np.isfinite(array).all()


def test_damaged_checkpoint_raises_error(cli, tmp_path):
    out = tmp_path / "mnv1"
    subprocess.run([MODELGEN, "mobilenet_v1", "--out", str(out), "--image-size", "32", "--classes", "10",
                    "--width-multiplier", "0.25"], check=True, capture_output=True)
    data = out / "model.ckpt.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    ckpt = tffreeze.Checkpoint(str(out / "model.ckpt"))
    name = max(ckpt, key=lambda n: np.prod(ckpt.shapes[n]) if ckpt.dtypes[n] != object else 0)
    del ckpt
    listing = {t["name"]: t for t in cli.json("ckpt", "list", out / "model.ckpt", "--json")}
    assert listing[name]["bytes"] > 0
    raw[len(raw) // 2] ^= 0xFF  # somewhere in the data: one tensor's checksum fails
    data.write_bytes(bytes(raw))
    result = cli("ckpt", "check", out / "model.ckpt")
    ckpt = tffreeze.Checkpoint(str(out / "model.ckpt"))
    with pytest.raises(tffreeze.Error) as error:
        for n in ckpt:
            ckpt[n]
    assert error.value.exit_code == result.returncode == 3
    assert "checksum mismatch" in str(error.value) and str(error.value) == result.stdout.splitlines()[0]
