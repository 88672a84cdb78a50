"""Bad input raises tffreeze.Error with the CLI's exit code and one-line message; mistakes in
Python arguments raise TypeError or ValueError; nothing crashes the interpreter."""
import subprocess
import sys

import numpy as np
import pytest

import tffreeze
from conftest import fixture_path, save_npy

FC_LAYERS = "tensorflow-onnx/tests/models/fc-layers/frozen.pb"
REGRESSION_META = "tensorflow-onnx/tests/models/regression/checkpoint/model.meta"


def raises_like_cli(cli, call, *cli_args):
    code, message = cli.error_line(*cli_args)
    with pytest.raises(tffreeze.Error) as error:
        call()
    assert (error.value.exit_code, str(error.value)) == (code, message)
    assert error.value.message == message and isinstance(error.value, Exception)
    return error.value


def test_jpeg_as_model(cli, tmp_path):
    jpeg = tmp_path / "photo.jpg"
    jpeg.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) * 4)
    e = raises_like_cli(cli, lambda: tffreeze.inspect(str(jpeg)), "inspect", jpeg)
    assert e.exit_code == 3
    raises_like_cli(cli, lambda: tffreeze.freeze(jpeg), "freeze", jpeg, "-o", tmp_path / "x.pb")
    raises_like_cli(cli, lambda: tffreeze.run(jpeg, {}), "run", jpeg)
    raises_like_cli(cli, lambda: tffreeze.validate(jpeg), "validate", jpeg)
    with pytest.raises(tffreeze.Error) as error:
        tffreeze.Checkpoint(str(jpeg))
    assert error.value.exit_code == 3


def test_missing_checkpoint(cli, tmp_path):
    meta = fixture_path(REGRESSION_META)
    missing = tmp_path / "nothing" / "model.ckpt"
    e = raises_like_cli(cli, lambda: tffreeze.freeze(meta, checkpoint=missing), "freeze", meta, "-c", missing, "-o", tmp_path / "x.pb")
    assert e.exit_code == 3
    code, message = cli.error_line("ckpt", "list", missing)
    with pytest.raises(tffreeze.Error) as error:
        tffreeze.Checkpoint(missing)
    assert (error.value.exit_code, str(error.value)) == (code, message)


def test_wrong_feed_dtype_and_shape(cli, tmp_path):
    model = fixture_path(FC_LAYERS)
    for bad in (np.zeros((1, 784), np.int32), np.zeros((1, 10), np.float32), np.zeros((784,), np.float64)):
        e = raises_like_cli(cli, lambda: tffreeze.run(model, {"X": bad}), "run", model, "-i", "X=" + save_npy(tmp_path / "x.npy", bad))
        assert e.exit_code == 3
    raises_like_cli(cli, lambda: tffreeze.run(model, {"nope": np.zeros(1, np.float32)}), "run", model, "-i",
                    "nope=" + save_npy(tmp_path / "n.npy", np.zeros(1, np.float32)))


def test_unknown_pass_and_target(cli, tmp_path):
    model = fixture_path(FC_LAYERS)
    e = raises_like_cli(cli, lambda: tffreeze.optimize(model, transforms="fold_constants no_such_pass"), "optimize", model,
                        "--transforms", "fold_constants no_such_pass", "-o", tmp_path / "o.pb")
    assert e.exit_code == 2
    raises_like_cli(cli, lambda: tffreeze.optimize(model, target="nowhere"), "optimize", model, "--target", "nowhere", "-o", tmp_path / "o.pb")
    raises_like_cli(cli, lambda: tffreeze.check(model, "nowhere"), "check", model, "--target", "nowhere")
    meta = fixture_path(REGRESSION_META)
    raises_like_cli(cli, lambda: tffreeze.freeze(meta, optimize=True, transforms="no_such_pass"), "freeze", meta, "--optimize",
                    "--transforms", "no_such_pass", "-o", tmp_path / "o.pb")
    raises_like_cli(cli, lambda: tffreeze.freeze(meta, set={"=": 1}), "freeze", meta, "--set", "==1", "-o", tmp_path / "o.pb")
    graph = tffreeze.freeze(meta)
    with pytest.raises(tffreeze.Error) as error:
        graph.save(tmp_path / "x.unknown")
    assert error.value.exit_code == 2


def test_python_argument_mistakes(tmp_path):
    model = fixture_path(FC_LAYERS)
    with pytest.raises(TypeError):
        tffreeze.inspect(42)
    with pytest.raises(TypeError):
        tffreeze.run(model, [np.zeros((1, 784), np.float32)])
    with pytest.raises(TypeError):
        tffreeze.run(model, {1: np.zeros((1, 784), np.float32)})
    with pytest.raises(TypeError):
        tffreeze.run(model, {"X": np.zeros((1, 784), "datetime64[s]")})
    with pytest.raises(TypeError):
        tffreeze.run(model, {"X": np.array([1.5, object()], dtype=object)})
    with pytest.raises(TypeError):
        tffreeze.run(model, {"X": np.zeros((1, 784), np.float32)}, outputs="output")  # a list of names, not a str
    with pytest.raises(TypeError):
        tffreeze.freeze(model, set=["is_training=false"])
    with pytest.raises(ValueError):
        tffreeze.verify(model, model, random=0)
    with pytest.raises(TypeError):
        tffreeze.check(model)


def test_no_crash_on_truncated_and_flipped_models(tmp_path):
    """Damaged copies of a real model in a child interpreter: every one raises, none crashes it."""
    model = fixture_path(FC_LAYERS)
    code = f"""
import random, sys, tffreeze
raw = open({model!r}, 'rb').read()
rng = random.Random(7)
for i in range(60):
    data = bytearray(raw[: rng.randrange(len(raw))] if i % 2 else raw)
    for _ in range(8):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    path = {str(tmp_path)!r} + '/m.pb'
    open(path, 'wb').write(bytes(data))
    for call in (lambda: tffreeze.inspect(path), lambda: tffreeze.validate(path), lambda: tffreeze.optimize(path)):
        try:
            call()
        except tffreeze.Error as e:
            assert e.exit_code in (1, 2, 3, 4), e
print('ok')
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
