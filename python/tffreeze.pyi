"""tffreeze: freeze, optimize, validate and run TensorFlow models without TensorFlow.

Every function mirrors a CLI command and calls the same library code; failures raise
tffreeze.Error with the CLI's exit code and one-line message.
"""
import os
from typing import Any, Iterator, Mapping, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

__version__: str

PathLike = Union[str, os.PathLike[str]]
ModelLike = Union[PathLike, "Graph"]
ArrayLike = npt.ArrayLike

class Error(Exception):
    """A failure of tffreeze. exit_code: 1 check failed, 2 usage, 3 bad input, 4 unsupported, 5 internal."""
    exit_code: int
    message: str

class Graph:
    """A TensorFlow graph in memory, as freeze and optimize return it."""
    def save(self, path: PathLike) -> None:
        """Write by extension: .pb, .pbtxt, .json (TF.js graph model), .onnx. Same bytes as the CLI."""
    def to_bytes(self) -> bytes:
        """The binary GraphDef."""
    def run(self, feeds: Mapping[str, ArrayLike], outputs: Optional[Sequence[str]] = None) -> dict[str, np.ndarray]:
        """Run on the CPU with the reference executor."""
    @property
    def inputs(self) -> list[dict[str, Any]]:
        """[{name, op, dtype, shape, training_flag}]"""
    @property
    def outputs(self) -> list[dict[str, Any]]:
        """[{name, op, dtype, shape}]: the outputs it was frozen or optimized for, else the inferred ones; shape from a
        run on random inputs, -1 where it follows an unknown input dimension, None when the graph cannot run."""
    @property
    def ops(self) -> dict[str, int]:
        """Op type -> node count."""
    @property
    def report(self) -> dict[str, Any]:
        """The freeze report (with 'optimize' inside when optimized) or the optimize report."""
    @property
    def node_count(self) -> int: ...

class Checkpoint(Mapping[str, np.ndarray]):
    """A checkpoint as a lazy, read-only mapping name -> array (V2 numeric tensors: views of the mapped file)."""
    def __init__(self, path: PathLike) -> None: ...
    def __getitem__(self, name: str) -> np.ndarray: ...
    def __iter__(self) -> Iterator[str]: ...
    def __len__(self) -> int: ...
    @property
    def dtypes(self) -> dict[str, np.dtype[Any]]: ...
    @property
    def shapes(self) -> dict[str, tuple[int, ...]]: ...
    @property
    def object_graph(self) -> Optional[dict[str, Any]]:
        """A TF 2 checkpoint's object graph: {nodes, attributes: [{path, attribute, checkpoint_key}]}; else None."""
    @property
    def prefix(self) -> str: ...

def inspect(model: ModelLike, tags: Optional[Sequence[str]] = None) -> dict[str, Any]:
    """The `tffreeze inspect --json` object of a model, an ONNX file or a checkpoint."""

def validate(model: ModelLike, tags: Optional[Sequence[str]] = None) -> list[str]:
    """The graph's problems (empty when valid)."""

def freeze(
    model: PathLike,
    checkpoint: Optional[PathLike] = None,
    outputs: Optional[Sequence[str]] = None,
    inputs: Optional[Sequence[str]] = None,
    signature: Optional[str] = None,
    tags: Optional[Sequence[str]] = None,
    use_moving_averages: bool = False,
    moving_average_name: Optional[str] = None,
    set: Optional[Mapping[str, Union[bool, int, float, str]]] = None,
    replace_input: Optional[Mapping[str, str]] = None,
    keep_conds: bool = False,
    lower_loops: bool = False,
    optimize: bool = False,
    target: str = "generic",
    transforms: Optional[str] = None,
    verify: bool = True,
) -> Graph:
    """Freeze as `tffreeze freeze` does (optimize=True: also `--optimize --target`)."""

def optimize(
    model: ModelLike,
    target: str = "generic",
    transforms: Optional[str] = None,
    outputs: Optional[Sequence[str]] = None,
    shapes: Optional[Mapping[str, Sequence[int]]] = None,
    verify: bool = True,
) -> Graph:
    """Optimize as `tffreeze optimize` does, proven unchanged unless verify=False."""

def run(
    model: ModelLike,
    feeds: Mapping[str, ArrayLike],
    outputs: Optional[Sequence[str]] = None,
    checkpoint: Optional[PathLike] = None,
    tags: Optional[Sequence[str]] = None,
) -> dict[str, np.ndarray]:
    """Run on the CPU: {output: array}."""

def verify(
    a: ModelLike,
    b: ModelLike,
    feeds: Optional[Mapping[str, ArrayLike]] = None,
    random: int = 1,
    rtol: float = 1e-5,
    atol: float = 1e-5,
    outputs: Optional[Sequence[str]] = None,
    seed: int = 0,
    shapes: Optional[Mapping[str, Sequence[int]]] = None,
) -> dict[str, dict[str, Any]]:
    """{output: {max_abs, max_rel, within_tolerance, mismatch}}."""

def check(model: ModelLike, target: str) -> list[dict[str, str]]:
    """[{node, op, rule, fix}] for every node the target would reject."""
