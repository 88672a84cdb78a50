"""NumPy <-> TensorFlow dtypes both ways, through a graph of Identity ops run by the executor,
compared with the CLI's .npy output."""
import numpy as np
import pytest

import tffreeze
from conftest import save_npy

DTYPES = {
    "bool": "DT_BOOL", "int8": "DT_INT8", "int16": "DT_INT16", "int32": "DT_INT32", "int64": "DT_INT64",
    "uint8": "DT_UINT8", "uint16": "DT_UINT16", "uint32": "DT_UINT32", "uint64": "DT_UINT64",
    "float16": "DT_HALF", "float32": "DT_FLOAT", "float64": "DT_DOUBLE", "string": "DT_STRING",
}


def identity_graph(path):
    """One Placeholder -> Identity pair per dtype, as a text GraphDef."""
    nodes = []
    for name, dt in DTYPES.items():
        nodes.append(f'node {{ name: "in_{name}" op: "Placeholder" attr {{ key: "dtype" value {{ type: {dt} }} }} }}')
        nodes.append(f'node {{ name: "out_{name}" op: "Identity" input: "in_{name}" attr {{ key: "T" value {{ type: {dt} }} }} }}')
    path.write_text("\n".join(nodes) + "\nversions { producer: 1000 }\n")
    return str(path)


def sample(name, rng):
    if name == "string":
        return np.array([[b"a", b""], [b"\x00\xff", "caf\u00e9".encode()]], dtype=object)
    if name == "bool":
        return rng.random((2, 3)) > 0.5
    if name.startswith(("int", "uint")):
        info = np.iinfo(name)
        return rng.integers(info.min, info.max, size=(2, 3), dtype=name, endpoint=True)
    return rng.standard_normal((2, 3)).astype(name)


def test_every_dtype_round_trips(cli, tmp_path):
    graph = identity_graph(tmp_path / "ids.pbtxt")
    rng = np.random.default_rng(3)
    for name in DTYPES:
        value = sample(name, rng)
        out = tffreeze.run(graph, {f"in_{name}": value}, outputs=[f"out_{name}"])[f"out_{name}"]
        assert out.shape == value.shape
        if name == "string":
            assert out.dtype == object and out.tolist() == value.tolist()
            continue
        assert out.dtype == value.dtype and np.array_equal(out, value), name
        cli("run", graph, "-i", f"in_{name}=" + save_npy(tmp_path / "v.npy", value), "--output", f"out_{name}",
            "--out-dir", tmp_path, check=True)
        want = np.load(tmp_path / f"out_{name}.npy")
        assert want.dtype == out.dtype and np.array_equal(want, out), name


def test_layouts_and_string_forms(tmp_path):
    graph = identity_graph(tmp_path / "ids.pbtxt")
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    for value in (base.T, base[::2, ::3], base.astype(">f4"), np.asfortranarray(base)):
        out = tffreeze.run(graph, {"in_float32": value}, outputs=["out_float32"])["out_float32"]
        assert out.dtype == np.float32 and np.array_equal(out, value)
    for value in (np.array([b"ab", b"c"]), np.array(["ab", "c"]), [b"ab", "c"]):
        out = tffreeze.run(graph, {"in_string": value}, outputs=["out_string"])["out_string"]
        assert out.tolist() == [b"ab", b"c"]
    scalar = tffreeze.run(graph, {"in_int64": np.int64(-5)}, outputs=["out_int64"])["out_int64"]
    assert scalar.shape == () and scalar.dtype == np.int64 and int(scalar) == -5
    empty = tffreeze.run(graph, {"in_float32": np.zeros((0, 3), np.float32)}, outputs=["out_float32"])["out_float32"]
    assert empty.shape == (0, 3)


def test_wrong_dtype_is_the_clis_error(cli, tmp_path):
    graph = identity_graph(tmp_path / "ids.pbtxt")
    code, message = cli.error_line("run", graph, "-i", "in_int64=" + save_npy(tmp_path / "v.npy", np.zeros(2, np.int32)), "--output", "out_int64")
    with pytest.raises(tffreeze.Error) as error:
        tffreeze.run(graph, {"in_int64": np.zeros(2, np.int32)}, outputs=["out_int64"])
    assert (error.value.exit_code, str(error.value)) == (code, message)


def test_str_arrays_that_are_not_unicode_raise_value_error(tmp_path):
    """Fuzz findings (fuzz/fuzz_python.cc): str arrays made from raw bytes, with a code point past
    U+10FFFF (NumPy raised SystemError) or a lone surrogate (pybind11 raised RuntimeError)."""
    graph = identity_graph(tmp_path / "ids.pbtxt")
    for code_points in ([0x110000], [0x61, 0xD800]):
        bad = np.frombuffer(np.array(code_points, dtype="<u4").tobytes(), dtype=f"<U{len(code_points)}")
        with pytest.raises(ValueError):
            tffreeze.run(graph, {"in_string": bad}, outputs=["out_string"])
