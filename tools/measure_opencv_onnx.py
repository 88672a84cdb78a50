#!/usr/bin/python3
"""Measures what OpenCV DNN's ONNX importer (Debian's python3-opencv, cv2.dnn.readNetFromONNX) loads and
computes correctly: one small model per op and operand form, run in OpenCV (tools/opencv_run.py, a child
process: a crash is a finding) and in onnxruntime (tools/onnxruntime/run_onnx.js, the truth), compared
within 1e-4 relative to max(1, |value|). The rules of `tffreeze check --target opencv MODEL.onnx`
(src/targets/onnx_opencv_rules.cc) are derived from this table; re-run it after an OpenCV upgrade.

  tools/measure_opencv_onnx.py [--only SUBSTRING|SUBSTRING...] [--json OUT.json] [--keep DIR] [--check build/tffreeze]

Prints one line per case: `ok`, `load` (the import or forward failed: OpenCV's message), `wrong` (other
numbers), `crash` (signal) or `ref` (onnxruntime refused the model: the case is wrong, not OpenCV).
Needs Debian's python3-onnx (onnx.helper) and numpy, and `npm ci` in tools/onnxruntime.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
F = TensorProto.FLOAT
X4 = [1, 3, 6, 6]  # the NCHW feature map most cases use


def init(name, values, dtype=np.float32):
    return numpy_helper.from_array(np.asarray(values, dtype=dtype), name)


def ints(name, values):
    return init(name, values, np.int64)


def const_node(name, values, dtype=np.float32):
    return helper.make_node("Constant", [], [name], value=init(name + "_v", values, dtype))


class Case:
    """A model of `nodes` over float inputs `inputs` (name -> shape) with output `y`."""

    def __init__(self, name, nodes, inputs=None, inits=(), opset=17, positive=False, outputs=("y",), out_type=F, output_shapes=True):
        self.name, self.nodes, self.inits, self.opset, self.positive = name, nodes, list(inits), opset, positive
        self.output_shapes = output_shapes
        self.inputs = inputs if inputs is not None else {"x": X4}
        self.outputs, self.out_type = list(outputs), out_type

    def model(self):
        graph = helper.make_graph(
            self.nodes, self.name.replace(" ", "_"),
            [helper.make_tensor_value_info(n, F, s) for n, s in self.inputs.items()],
            [helper.make_tensor_value_info(o, self.out_type, None) for o in self.outputs], self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)], producer_name="measure_opencv_onnx")
        m.ir_version = 8 if self.opset <= 17 else 9
        if self.output_shapes:  # as exporters write them: OpenCV asserts that outputs have shapes
            g = onnx.shape_inference.infer_shapes(m).graph
            inferred = {v.name: v for v in list(g.value_info) + list(g.output)}
            for o in m.graph.output:
                if o.name in inferred:
                    o.type.CopyFrom(inferred[o.name].type)
        return m


def n(op, inputs, outputs=("y",), **attrs):
    return helper.make_node(op, list(inputs), list(outputs), **attrs)


def unary_cases():
    ops = ["Relu", "Sigmoid", "Tanh", "Exp", "Abs", "Neg", "Floor", "Ceil", "Round", "Erf", "Sin", "Cos", "Tan", "Asin", "Acos",
           "Atan", "Sinh", "Cosh", "Asinh", "Atanh", "Reciprocal", "Softplus", "Softsign", "Sign", "Elu", "Selu", "HardSigmoid",
           "HardSwish", "Identity", "Mish", "Celu", "ThresholdedRelu", "Shrink"]
    out = [Case(op, [n(op, ["x"])]) for op in ops]
    out += [Case(op, [n(op, ["x"])], positive=True) for op in ["Log", "Sqrt", "Acosh"]]
    out.append(Case("LeakyRelu", [n("LeakyRelu", ["x"], alpha=0.2)]))
    out.append(Case("PRelu per-channel slope", [n("PRelu", ["x", "s"])], inits=[init("s", np.full([3, 1, 1], 0.3))]))
    out.append(Case("PRelu scalar slope", [n("PRelu", ["x", "s"])], inits=[init("s", [0.3])]))
    return out


def binary_cases():
    out = []
    for op in ["Add", "Sub", "Mul", "Div", "Max", "Min", "Pow", "Sum", "Mean", "Mod"]:
        attrs = {"fmod": 1} if op == "Mod" else {}
        pos = op in ("Pow", "Div", "Mod")
        out.append(Case(op + " two inputs", [n(op, ["x", "z"], **attrs)], inputs={"x": X4, "z": X4}, positive=pos))
        out.append(Case(op + " computed, computed", [n("Relu", ["x"], ["r"]), n("Sigmoid", ["x"], ["s"]), n(op, ["r", "s"], **attrs)],
                        positive=pos))
        out.append(Case(op + " const same shape", [n(op, ["x", "c"], **attrs)], inits=[init("c", np.random.rand(*X4) + 0.5)], positive=pos))
        out.append(Case(op + " const scalar", [n(op, ["x", "c"], **attrs)], inits=[init("c", 1.5)], positive=pos))
        out.append(Case(op + " const [1]", [n(op, ["x", "c"], **attrs)], inits=[init("c", [1.5])], positive=pos))
        out.append(Case(op + " const per-channel", [n(op, ["x", "c"], **attrs)], inits=[init("c", np.random.rand(1, 3, 1, 1) + 0.5)],
                        positive=pos))
        out.append(Case(op + " const [C,1,1]", [n(op, ["x", "c"], **attrs)], inits=[init("c", np.random.rand(3, 1, 1) + 0.5)], positive=pos))
        out.append(Case(op + " const last axis", [n(op, ["x", "c"], **attrs)], inits=[init("c", np.random.rand(6) + 0.5)], positive=pos))
        out.append(Case(op + " const first", [n(op, ["c", "x"], **attrs)], inits=[init("c", np.random.rand(1, 3, 1, 1) + 0.5)], positive=pos))
        out.append(Case(op + " const first scalar", [n(op, ["c", "x"], **attrs)], inits=[init("c", 1.5)], positive=pos))
        out.append(Case(op + " Constant node", [const_node("c", np.random.rand(1, 3, 1, 1) + 0.5), n(op, ["x", "c"], **attrs)], positive=pos))
        out.append(Case(op + " broadcast inputs", [n(op, ["x", "z"], **attrs)], inputs={"x": X4, "z": [1, 3, 1, 1]}, positive=pos))
        out.append(Case(op + " 2-D const row", [n(op, ["x", "c"], **attrs)], inputs={"x": [2, 5]}, inits=[init("c", np.random.rand(1, 5) + .5)],
                        positive=pos))
        out.append(Case(op + " 2-D two inputs", [n(op, ["x", "z"], **attrs)], inputs={"x": [2, 5], "z": [2, 5]}, positive=pos))
        out.append(Case(op + " 2-D const last axis", [n(op, ["x", "c"], **attrs)], inputs={"x": [2, 5]}, inits=[init("c", np.random.rand(5) + .5)],
                        positive=pos))
    out.append(Case("Sum three inputs", [n("Sum", ["x", "z", "w"])], inputs={"x": X4, "z": X4, "w": X4}))
    out.append(Case("Max three inputs", [n("Max", ["x", "z", "w"])], inputs={"x": X4, "z": X4, "w": X4}))
    for op in ["Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual"]:
        out.append(Case(op + " as Where condition", [n(op, ["x", "z"], ["b"]), n("Where", ["b", "x", "z"])], inputs={"x": X4, "z": X4}))
        out.append(Case(op + " const, as Where condition", [n(op, ["x", "c"], ["b"]), n("Where", ["b", "x", "c"])], inits=[init("c", 0.1)]))
        out.append(Case(op + " cast to float", [n(op, ["x", "z"], ["b"]), n("Cast", ["b"], to=F)], inputs={"x": X4, "z": X4}))
        out.append(Case(op + " const, cast to float", [n(op, ["x", "c"], ["b"]), n("Cast", ["b"], to=F)], inits=[init("c", 0.1)]))
    out.append(Case("Not/And/Or as Where condition", [n("Greater", ["x", "z"], ["b"]), n("Less", ["x", "z"], ["l"]), n("Or", ["b", "l"], ["o"]),
                                                     n("Not", ["o"], ["no"]), n("Where", ["no", "x", "z"])], inputs={"x": X4, "z": X4}))
    return out


def conv_cases():
    w = np.random.rand(4, 3, 3, 3) - 0.5
    b = np.random.rand(4)
    dw = np.random.rand(3, 1, 3, 3) - 0.5
    out = [
        Case("Conv", [n("Conv", ["x", "w", "b"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])], inits=[init("w", w), init("b", b)]),
        Case("Conv no bias", [n("Conv", ["x", "w"], kernel_shape=[3, 3])], inits=[init("w", w)]),
        Case("Conv without kernel_shape", [n("Conv", ["x", "w"])], inits=[init("w", w)]),
        Case("Conv stride 2", [n("Conv", ["x", "w", "b"], kernel_shape=[3, 3], strides=[2, 2])], inits=[init("w", w), init("b", b)]),
        Case("Conv asymmetric pads", [n("Conv", ["x", "w", "b"], kernel_shape=[3, 3], pads=[0, 0, 1, 1], strides=[2, 2])], inits=[init("w", w), init("b", b)]),
        Case("Conv dilated", [n("Conv", ["x", "w", "b"], kernel_shape=[3, 3], dilations=[2, 2], pads=[2, 2, 2, 2])], inits=[init("w", w), init("b", b)]),
        Case("Conv auto_pad SAME_UPPER", [n("Conv", ["x", "w", "b"], kernel_shape=[3, 3], auto_pad="SAME_UPPER", strides=[2, 2])], inits=[init("w", w), init("b", b)]),
        Case("Conv auto_pad VALID", [n("Conv", ["x", "w", "b"], kernel_shape=[3, 3], auto_pad="VALID")], inits=[init("w", w), init("b", b)]),
        Case("Conv depthwise (group)", [n("Conv", ["x", "w"], kernel_shape=[3, 3], group=3, pads=[1, 1, 1, 1])], inits=[init("w", dw)]),
        Case("Conv computed weights", [n("Conv", ["x", "w"], kernel_shape=[3, 3])], inputs={"x": X4, "w": [4, 3, 3, 3]}),
        Case("Conv weights from Constant", [const_node("w", w), n("Conv", ["x", "w"], kernel_shape=[3, 3])]),
        Case("Conv 1-D", [n("Conv", ["x", "w"], kernel_shape=[3])], inputs={"x": [1, 3, 8]}, inits=[init("w", np.random.rand(4, 3, 3))]),
        Case("Conv 3-D", [n("Conv", ["x", "w"], kernel_shape=[3, 3, 3])], inputs={"x": [1, 3, 4, 4, 4]}, inits=[init("w", np.random.rand(2, 3, 3, 3, 3))]),
        Case("ConvTranspose", [n("ConvTranspose", ["x", "w", "b"], kernel_shape=[3, 3], strides=[2, 2])], inits=[init("w", np.random.rand(3, 2, 3, 3)), init("b", [1, 2])]),
        Case("ConvTranspose pads output_padding", [n("ConvTranspose", ["x", "w"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])],
             inits=[init("w", np.random.rand(3, 2, 3, 3))]),
        Case("ConvTranspose output_shape", [n("ConvTranspose", ["x", "w"], kernel_shape=[3, 3], strides=[2, 2], output_shape=[12, 12])],
             inits=[init("w", np.random.rand(3, 2, 3, 3))]),
        Case("MaxPool", [n("MaxPool", ["x"], kernel_shape=[2, 2], strides=[2, 2])]),
        Case("MaxPool pads", [n("MaxPool", ["x"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])]),
        Case("MaxPool asymmetric pads", [n("MaxPool", ["x"], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1])]),
        Case("MaxPool SAME_UPPER", [n("MaxPool", ["x"], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")]),
        Case("MaxPool ceil_mode", [n("MaxPool", ["x"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)], inputs={"x": [1, 3, 7, 7]}),
        Case("AveragePool", [n("AveragePool", ["x"], kernel_shape=[2, 2], strides=[2, 2])]),
        Case("AveragePool pads exclude", [n("AveragePool", ["x"], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])]),
        Case("AveragePool pads include", [n("AveragePool", ["x"], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1], count_include_pad=1)]),
        Case("AveragePool asymmetric pads", [n("AveragePool", ["x"], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1])]),
        Case("GlobalAveragePool", [n("GlobalAveragePool", ["x"])]),
        Case("GlobalMaxPool", [n("GlobalMaxPool", ["x"])]),
        Case("BatchNormalization", [n("BatchNormalization", ["x", "s", "b", "m", "v"])],
             inits=[init("s", [1, 2, 3]), init("b", [.1, .2, .3]), init("m", [0, .1, .2]), init("v", [1, .5, 2])]),
        Case("InstanceNormalization epsilon", [n("InstanceNormalization", ["x", "s", "b"], epsilon=1e-5)],
             inits=[init("s", [1, 2, 3]), init("b", [.1, .2, .3])]),
        Case("ConvTranspose without kernel_shape", [n("ConvTranspose", ["x", "w"], strides=[2, 2])], inits=[init("w", np.random.rand(3, 2, 3, 3))]),
        Case("MatMul 3-D computed", [n("MatMul", ["x", "z"])], inputs={"x": [2, 3, 5], "z": [2, 5, 4]}),
        Case("InstanceNormalization", [n("InstanceNormalization", ["x", "s", "b"])], inits=[init("s", [1, 2, 3]), init("b", [.1, .2, .3])]),
        Case("LRN", [n("LRN", ["x"], size=3)]),
        Case("LpNormalization", [n("LpNormalization", ["x"], axis=1)]),
        Case("MatMul const", [n("MatMul", ["x", "w"])], inputs={"x": [2, 5]}, inits=[init("w", np.random.rand(5, 4))]),
        Case("MatMul computed", [n("MatMul", ["x", "z"])], inputs={"x": [2, 5], "z": [5, 4]}),
        Case("MatMul 3-D const", [n("MatMul", ["x", "w"])], inputs={"x": [2, 3, 5]}, inits=[init("w", np.random.rand(5, 4))]),
        Case("MatMul 4-D const", [n("MatMul", ["x", "w"])], inputs={"x": X4}, inits=[init("w", np.random.rand(6, 4))]),
        Case("MatMul const first", [n("MatMul", ["w", "x"])], inputs={"x": [5, 2]}, inits=[init("w", np.random.rand(4, 5))]),
        Case("MatMul then Add bias", [n("MatMul", ["x", "w"], ["m"]), n("Add", ["m", "b"])], inputs={"x": [2, 5]},
             inits=[init("w", np.random.rand(5, 4)), init("b", np.random.rand(4))]),
        Case("Gemm transB", [n("Gemm", ["x", "w", "b"], transB=1)], inputs={"x": [2, 5]}, inits=[init("w", np.random.rand(4, 5)), init("b", np.random.rand(4))]),
        Case("Gemm", [n("Gemm", ["x", "w", "b"])], inputs={"x": [2, 5]}, inits=[init("w", np.random.rand(5, 4)), init("b", np.random.rand(4))]),
        Case("Gemm alpha beta", [n("Gemm", ["x", "w", "b"], alpha=0.5, beta=2.0)], inputs={"x": [2, 5]},
             inits=[init("w", np.random.rand(5, 4)), init("b", np.random.rand(4))]),
        Case("Einsum", [n("Einsum", ["x", "z"], equation="ij,jk->ik")], inputs={"x": [2, 5], "z": [5, 4]}),
    ]
    return out


def shape_cases():
    out = [
        Case("Reshape const", [n("Reshape", ["x", "s"])], inits=[ints("s", [1, 3, 36])]),
        Case("Reshape const -1 and 0", [n("Reshape", ["x", "s"])], inits=[ints("s", [0, -1])]),
        Case("Reshape shape from Constant", [const_node("s", [1, 108], np.int64), n("Reshape", ["x", "s"])]),
        Case("Reshape computed shape", [n("Shape", ["x"], ["s"]), n("Reshape", ["x", "s"])]),
        Case("Flatten", [n("Flatten", ["x"])]),
        Case("Flatten axis 2", [n("Flatten", ["x"], axis=2)]),
        Case("Transpose NCHW->NHWC", [n("Transpose", ["x"], perm=[0, 2, 3, 1])]),
        Case("Transpose NHWC->NCHW", [n("Transpose", ["x"], perm=[0, 3, 1, 2])], inputs={"x": [1, 6, 6, 3]}),
        Case("Transpose 2-D", [n("Transpose", ["x"], perm=[1, 0])], inputs={"x": [2, 5]}),
        Case("Transpose 3-D", [n("Relu", ["x"], ["r"]), n("Reshape", ["r", "s"], ["q"]), n("Transpose", ["q"], perm=[0, 2, 1])],
             inits=[ints("s", [1, 3, 36])]),
        Case("Squeeze axes input", [n("GlobalAveragePool", ["x"], ["g"]), n("Squeeze", ["g", "a"])], inits=[ints("a", [2, 3])]),
        Case("Squeeze axes attribute (opset 11)", [n("GlobalAveragePool", ["x"], ["g"]), n("Squeeze", ["g"], axes=[2, 3])], opset=11),
        Case("Squeeze no axes", [n("GlobalAveragePool", ["x"], ["g"]), n("Squeeze", ["g"])]),
        Case("Unsqueeze axes input", [n("Unsqueeze", ["x", "a"])], inputs={"x": [2, 5]}, inits=[ints("a", [0])]),
        Case("Unsqueeze of 4-D", [n("Unsqueeze", ["x", "a"])], inits=[ints("a", [1])]),
        Case("Unsqueeze axes attribute (opset 11)", [n("Unsqueeze", ["x"], axes=[0])], inputs={"x": [2, 5]}, opset=11),
        Case("Concat axis 1", [n("Concat", ["x", "z"], axis=1)], inputs={"x": X4, "z": X4}),
        Case("Concat axis -1", [n("Concat", ["x", "z"], axis=-1)], inputs={"x": X4, "z": X4}),
        Case("Concat axis 0", [n("Concat", ["x", "z"], axis=0)], inputs={"x": X4, "z": X4}),
        Case("Concat with const", [n("Concat", ["x", "c"], axis=1)], inits=[init("c", np.random.rand(1, 2, 6, 6))]),
        Case("Concat const first", [n("Concat", ["c", "x"], axis=1)], inits=[init("c", np.random.rand(1, 2, 6, 6))]),
        Case("Concat 2-D", [n("Concat", ["x", "z"], axis=1)], inputs={"x": [2, 5], "z": [2, 3]}),
        Case("Split equal", [n("Split", ["x"], ["a", "b", "c"], axis=1), n("Concat", ["c", "a", "b"], axis=1)]),
        Case("Split sizes input", [n("Split", ["x", "s"], ["a", "b"], axis=1), n("Concat", ["b", "a"], axis=1)], inits=[ints("s", [1, 2])]),
        Case("Split sizes axis 3", [n("Split", ["x", "s"], ["a", "b"], axis=3), n("Concat", ["b", "a"], axis=3)], inits=[ints("s", [2, 4])]),
        Case("Split output 1 only", [n("Split", ["x", "s"], ["a", "y"], axis=1)], inits=[ints("s", [1, 2])]),
        Case("Slice", [n("Slice", ["x", "s", "e", "a"])], inits=[ints("s", [1, 1]), ints("e", [3, 5]), ints("a", [1, 2])]),
        Case("Slice no axes", [n("Slice", ["x", "s", "e"])], inits=[ints("s", [0, 1, 1, 0]), ints("e", [1, 3, 5, 6])]),
        Case("Slice end INT64_MAX", [n("Slice", ["x", "s", "e", "a"])], inits=[ints("s", [2]), ints("e", [2**63 - 1]), ints("a", [3])]),
        Case("Slice negative start", [n("Slice", ["x", "s", "e", "a"])], inits=[ints("s", [-2]), ints("e", [6]), ints("a", [2])]),
        Case("Slice negative axis", [n("Slice", ["x", "s", "e", "a"])], inits=[ints("s", [1]), ints("e", [4]), ints("a", [-1])]),
        Case("Slice steps 2", [n("Slice", ["x", "s", "e", "a", "t"])], inits=[ints("s", [0]), ints("e", [6]), ints("a", [3]), ints("t", [2])]),
        Case("Slice steps -1", [n("Slice", ["x", "s", "e", "a", "t"])],
             inits=[ints("s", [-1]), ints("e", [-2**63]), ints("a", [3]), ints("t", [-1])]),
        Case("Slice 2-D", [n("Slice", ["x", "s", "e", "a"])], inputs={"x": [2, 5]}, inits=[ints("s", [1]), ints("e", [4]), ints("a", [1])]),
        Case("Slice computed starts", [n("Slice", ["x", "s", "e", "a"])], inputs={"x": X4, "s": [1]},
             inits=[ints("e", [4]), ints("a", [3])]),
        Case("Pad constant", [n("Pad", ["x", "p"])], inits=[ints("p", [0, 0, 1, 2, 0, 0, 2, 1])]),
        Case("Pad constant value", [n("Pad", ["x", "p", "v"])], inits=[ints("p", [0, 0, 1, 1, 0, 0, 1, 1]), init("v", 0.5)]),
        Case("Pad reflect", [n("Pad", ["x", "p"], mode="reflect")], inits=[ints("p", [0, 0, 1, 1, 0, 0, 1, 1])]),
        Case("Pad edge", [n("Pad", ["x", "p"], mode="edge")], inits=[ints("p", [0, 0, 1, 1, 0, 0, 1, 1])]),
        Case("Pad channels", [n("Pad", ["x", "p"])], inits=[ints("p", [0, 1, 0, 0, 0, 1, 0, 0])]),
        Case("Pad 2-D", [n("Pad", ["x", "p"])], inputs={"x": [2, 5]}, inits=[ints("p", [0, 1, 0, 2])]),
        Case("Pad from Constant", [const_node("p", [0, 0, 1, 1, 0, 0, 1, 1], np.int64), n("Pad", ["x", "p"])]),
        Case("Tile", [n("Tile", ["x", "r"])], inits=[ints("r", [1, 2, 1, 2])]),
        Case("Expand", [n("Expand", ["x", "s"])], inputs={"x": [1, 3, 1, 1]}, inits=[ints("s", [1, 3, 4, 4])]),
        Case("Gather const indices", [n("Gather", ["x", "i"], axis=1)], inits=[ints("i", [2, 0])]),
        Case("Gather scalar index", [n("Gather", ["x", "i"], axis=1)], inits=[ints("i", 1)]),
        Case("Gather 2-D", [n("Gather", ["x", "i"], axis=1)], inputs={"x": [2, 5]}, inits=[ints("i", [4, 0, 2])]),
        Case("Gather axis 0 of const", [n("Gather", ["c", "i"], ["g"], axis=0), n("Add", ["x", "g"])], inputs={"x": [2, 5]},
             inits=[init("c", np.random.rand(4, 5)), ints("i", [1, 3])]),
        Case("GatherElements", [n("GatherElements", ["x", "i"], axis=1)], inputs={"x": [2, 5]}, inits=[ints("i", [[0, 1], [4, 3]])]),
        Case("GatherND", [n("GatherND", ["x", "i"])], inputs={"x": [2, 5]}, inits=[ints("i", [[0, 1], [1, 3]])]),
        Case("Shape then Gather then Reshape", [n("Shape", ["x"], ["s"]), n("Gather", ["s", "i"], ["g"], axis=0),
                                               n("Concat", ["g", "m"], ["t"], axis=0), n("Reshape", ["x", "t"])],
             inits=[ints("i", [0]), ints("m", [-1])]),
        Case("ConstantOfShape then Add", [n("ConstantOfShape", ["s"], ["c"], value=init("v", [2.0])), n("Add", ["x", "c"])],
             inits=[ints("s", X4)]),
        Case("Cast float to float", [n("Cast", ["x"], to=F)]),
        Case("Cast to int32 and back", [n("Cast", ["x"], ["i"], to=TensorProto.INT32), n("Cast", ["i"], to=F)]),
        Case("Clip const min max", [n("Clip", ["x", "lo", "hi"])], inits=[init("lo", 0.0), init("hi", 0.5)]),
        Case("Clip max only", [n("Clip", ["x", "", "hi"])], inits=[init("hi", 0.5)]),
        Case("Clip no bounds", [n("Clip", ["x"])]),
        Case("Clip computed bounds", [n("Clip", ["x", "lo", "hi"])], inputs={"x": X4, "lo": [], "hi": []}),
        Case("Clip Constant bounds", [const_node("lo", 0.0), const_node("hi", 6.0), n("Clip", ["x", "lo", "hi"])]),
        Case("Softmax axis 1", [n("Softmax", ["x"], axis=1)]),
        Case("Softmax axis -1", [n("Softmax", ["x"], axis=-1)]),
        Case("Softmax 2-D", [n("Softmax", ["x"], axis=-1)], inputs={"x": [2, 5]}),
        Case("Softmax 2-D opset 11", [n("Softmax", ["x"], axis=1)], inputs={"x": [2, 5]}, opset=11),
        Case("LogSoftmax 2-D", [n("LogSoftmax", ["x"], axis=-1)], inputs={"x": [2, 5]}),
        Case("LogSoftmax axis 1", [n("LogSoftmax", ["x"], axis=1)]),
        Case("Hardmax 2-D", [n("Hardmax", ["x"], axis=-1)], inputs={"x": [2, 5]}),
        Case("DepthToSpace DCR", [n("DepthToSpace", ["x"], blocksize=2, mode="DCR")], inputs={"x": [1, 8, 3, 3]}),
        Case("DepthToSpace CRD", [n("DepthToSpace", ["x"], blocksize=2, mode="CRD")], inputs={"x": [1, 8, 3, 3]}),
        Case("SpaceToDepth", [n("SpaceToDepth", ["x"], blocksize=2)]),
        Case("ArgMax", [n("ArgMax", ["x"], ["a"], axis=1), n("Cast", ["a"], to=F)]),
        Case("ArgMax no keepdims", [n("ArgMax", ["x"], ["a"], axis=1, keepdims=0), n("Cast", ["a"], to=F)]),
        Case("ArgMin", [n("ArgMin", ["x"], ["a"], axis=1), n("Cast", ["a"], to=F)]),
        Case("TopK", [n("TopK", ["x", "k"], ["y", "i"], axis=-1)], inputs={"x": [2, 5]}, inits=[ints("k", [2])]),
        Case("CumSum", [n("CumSum", ["x", "a"])], inputs={"x": [2, 5]}, inits=[ints("a", 1)]),
        Case("Range then Add", [n("Range", ["s", "l", "d"], ["r"]), n("Add", ["x", "r"])], inputs={"x": [2, 5]},
             inits=[init("s", 0.0), init("l", 5.0), init("d", 1.0)]),
        Case("Where const condition", [n("Where", ["b", "x", "z"])], inputs={"x": X4, "z": X4},
             inits=[init("b", np.random.rand(*X4) > 0.5, np.bool_)]),
        Case("NonZero", [n("NonZero", ["x"], ["i"]), n("Cast", ["i"], to=F)], inputs={"x": [2, 5]}),
        Case("Dropout", [n("Dropout", ["x"])]),
        Case("OneHot", [n("OneHot", ["i", "d", "v"])], inputs={"x": [2, 5]}, inits=[ints("i", [1, 0, 2]), ints("d", 3), init("v", [0., 1.])]),
    ]
    return out


def reduce_cases():
    out = []
    for op in ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare",
               "ReduceLogSumExp"]:
        axes_input = op == "ReduceSum"  # opset 13 made ReduceSum's axes an input; the others follow at opset 18
        for axes, keep in (([2, 3], 1), ([2, 3], 0), ([1], 1), ([1], 0), ([-1], 0), ([3], 1), ([0], 1), ([1, 2, 3], 0)):
            label = f"{op} axes {axes} keepdims {keep}"
            if axes_input:
                out.append(Case(label + " (axes input)", [n(op, ["x", "a"], keepdims=keep)], inits=[ints("a", axes)]))
                out.append(Case(label + " (attribute, opset 11)", [n(op, ["x"], axes=axes, keepdims=keep)], opset=11))
            else:
                out.append(Case(label, [n(op, ["x"], axes=axes, keepdims=keep)]))
                out.append(Case(label + " (axes input, opset 18)", [n(op, ["x", "a"], keepdims=keep)], inits=[ints("a", axes)], opset=18))
        out.append(Case(op + " all axes", [n(op, ["x"], keepdims=0)]))
        out.append(Case(op + " 2-D axis 1", [n(op, ["x", "a"], keepdims=0) if axes_input else n(op, ["x"], axes=[1], keepdims=0)],
                        inputs={"x": [2, 5]}, inits=[ints("a", [1])] if axes_input else []))
    return out


def resize_cases():
    out = []
    for mode, coord, nearest in (("nearest", "asymmetric", "floor"), ("nearest", "align_corners", "round_prefer_ceil"),
                                 ("nearest", "tf_half_pixel_for_nn", "floor"), ("nearest", "half_pixel", "round_prefer_floor"),
                                 ("nearest", "asymmetric", "round_prefer_floor"),
                                 ("linear", "asymmetric", None), ("linear", "align_corners", None), ("linear", "half_pixel", None),
                                 ("linear", "pytorch_half_pixel", None)):
        attrs = {"mode": mode, "coordinate_transformation_mode": coord}
        if nearest:
            attrs["nearest_mode"] = nearest
        label = f"Resize {mode} {coord}" + (f" {nearest}" if nearest else "")
        out.append(Case(label + " sizes", [n("Resize", ["x", "", "", "s"], **attrs)], inits=[ints("s", [1, 3, 12, 12])]))
        out.append(Case(label + " sizes x1.5", [n("Resize", ["x", "", "", "s"], **attrs)], inits=[ints("s", [1, 3, 9, 9])]))
        out.append(Case(label + " scales", [n("Resize", ["x", "", "sc"], **attrs)], inits=[init("sc", [1, 1, 2, 2])]))
        out.append(Case(label + " downscale sizes", [n("Resize", ["x", "", "", "s"], **attrs)], inits=[ints("s", [1, 3, 4, 4])]))
    out.append(Case("Resize computed sizes", [n("Shape", ["z"], ["s"]), n("Resize", ["x", "", "", "s"], mode="nearest")],
                    inputs={"x": X4, "z": [1, 3, 12, 12]}))
    out.append(Case("Resize cubic", [n("Resize", ["x", "", "", "s"], mode="cubic")], inits=[ints("s", [1, 3, 12, 12])]))
    out.append(Case("Upsample (opset 9)", [n("Upsample", ["x", "sc"], mode="nearest")], inits=[init("sc", [1, 1, 2, 2])], opset=9))
    return out


def graph_cases():
    return [
        Case("input as output through Identity", [n("Identity", ["x"])]),
        Case("two outputs", [n("Relu", ["x"], ["y"]), n("Sigmoid", ["x"], ["z"])], outputs=("y", "z")),
        Case("output read by another node", [n("Relu", ["x"], ["y"]), n("Sigmoid", ["y"], ["z"])], outputs=("y", "z")),
        Case("constant output only", [n("Identity", ["c"])], inputs={}, inits=[init("c", [1.0, 2.0])]),
        Case("NHWC input transposed, conv, back", [n("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]), n("Conv", ["t", "w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
                                                  n("Transpose", ["c"], perm=[0, 2, 3, 1])],
             inputs={"x": [1, 6, 6, 3]}, inits=[init("w", np.random.rand(4, 3, 3, 3) - .5)]),
        Case("batch 2 conv", [n("Conv", ["x", "w"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])], inputs={"x": [2, 3, 6, 6]}, inits=[init("w", np.random.rand(4, 3, 3, 3))]),
        Case("Reshape of a weight, then Add", [n("Reshape", ["c", "s"], ["r"]), n("Add", ["x", "r"])],
             inits=[init("c", np.random.rand(3)), ints("s", [1, 3, 1, 1])]),
        Case("Identity of a weight, then Add", [n("Identity", ["c"], ["r"]), n("Add", ["x", "r"])], inits=[init("c", np.random.rand(1, 3, 1, 1))]),
        Case("Unsqueeze of a weight, then Add", [n("Unsqueeze", ["c", "a"], ["r"]), n("Add", ["x", "r"])],
             inits=[init("c", np.random.rand(3, 1, 1)), ints("a", [0])]),
        Case("Transpose of a weight, then MatMul", [n("Transpose", ["c"], ["r"], perm=[1, 0]), n("MatMul", ["x", "r"])], inputs={"x": [2, 5]},
             inits=[init("c", np.random.rand(4, 5))]),
        Case("Cast of a weight, then Add", [n("Cast", ["c"], ["r"], to=F), n("Add", ["x", "r"])], inits=[init("c", np.random.rand(1, 3, 1, 1))]),
        Case("Concat of weights, then Add", [n("Concat", ["c", "d"], ["r"], axis=1), n("Add", ["x", "r"])],
             inits=[init("c", np.random.rand(1, 1, 1, 1)), init("d", np.random.rand(1, 2, 1, 1))]),
        Case("Clip(x, 0, 6) written as Relu(x) - Relu(x - 6)", [n("Relu", ["x"], ["r"]), n("Sub", ["x", "c"], ["d"]), n("Relu", ["d"], ["q"]),
                                                          n("Sub", ["r", "q"])], inits=[init("c", 6.0)]),
        Case("output without shape", [n("Relu", ["x"])], output_shapes=False),
        Case("opset 13", [n("Relu", ["x"])], opset=13),
        Case("opset 18", [n("Relu", ["x"])], opset=18),
        Case("opset 20", [n("Relu", ["x"])], opset=20),
    ]


np.random.seed(1)  # the constants above are drawn at import: the same on every run
ALL = unary_cases() + binary_cases() + conv_cases() + shape_cases() + reduce_cases() + resize_cases() + graph_cases()


def check_accepts(tffreeze, model):
    """What `tffreeze check --target opencv` says of the model: True (accepts), False, or the error."""
    try:
        p = subprocess.run([tffreeze, "check", model, "--target", "opencv"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"check failed: {e}"
    if p.returncode not in (0, 1):
        return f"check failed: {p.stderr.strip()}"
    return p.returncode == 0


def npy_input(shape, positive, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=shape).astype(np.float32)
    return (np.abs(x) + 1.1).astype(np.float32) if positive else x


def run(argv, timeout=60):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1, "hang"
    return p.returncode, (p.stderr.strip().splitlines() or [""])[-1]


def measure(case, work):
    os.makedirs(work, exist_ok=True)
    model = os.path.join(work, "m.onnx")
    onnx.save(case.model(), model)
    feeds = []
    for k, (name, shape) in enumerate(case.inputs.items()):
        path = os.path.join(work, f"in_{name}.npy")
        np.save(path, npy_input(shape, case.positive, k + 1))
        feeds.append((name, path))
    ort = ["node", os.path.join(ROOT, "tools/onnxruntime/run_onnx.js"), model, os.path.join(work, "ort")]
    ort += [f"{a}={b}" for a, b in feeds] + sum([["--output", o] for o in case.outputs], [])
    code, err = run(ort)
    if code != 0:
        return "ref", err
    cv = ["/usr/bin/python3", os.path.join(ROOT, "tools/opencv_run.py"), model, os.path.join(work, "cv")]
    cv += sum([["--input", f"{a}={b}"] for a, b in feeds], []) + sum([["--output", o] for o in case.outputs], [])
    code, err = run(cv)
    if code < 0:
        return "crash", f"signal {-code}" if err != "hang" else "hang"
    if code != 0:
        return "load", err.replace("opencv: ", "")
    for o in case.outputs:
        want = np.load(os.path.join(work, "ort", o + ".npy")).astype(np.float64)
        got = np.load(os.path.join(work, "cv", o + ".npy")).astype(np.float64)
        if want.size != got.size:
            return "wrong", f"{o}: {got.size} values (shape {list(got.shape)}), want {want.size} (shape {list(want.shape)})"
        scale = max(1.0, float(np.max(np.abs(want))) if want.size else 1.0)
        worst = float(np.max(np.abs(want.ravel() - got.ravel()))) if want.size else 0.0
        if not worst <= 1e-4 * scale:
            return "wrong", f"{o}: max abs difference {worst:.3g} (values up to {scale:.3g})"
        if list(want.shape) != list(got.shape):
            return "shape", f"{o}: shape {list(got.shape)}, want {list(want.shape)} (values agree)"
    return "ok", ""


def main():
    parser = argparse.ArgumentParser(usage=__doc__)
    parser.add_argument("--only", default="")
    parser.add_argument("--json", default="")
    parser.add_argument("--keep", default="")
    parser.add_argument("--check", default="", metavar="TFFREEZE",
                        help="also run `TFFREEZE check --target opencv` on every case and list where it disagrees with OpenCV")
    args = parser.parse_args()
    results, unsafe, conservative = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or tmp
        for k, case in enumerate(ALL):
            if args.only and not any(part in case.name for part in args.only.split("|")):
                continue
            work = os.path.join(base, f"{k:03d}")
            verdict, detail = measure(case, work)
            results.append({"case": case.name, "verdict": verdict, "detail": detail})
            accepts = check_accepts(args.check, os.path.join(work, "m.onnx")) if args.check and verdict != "ref" else None
            if accepts is not None:
                results[-1]["check_accepts"] = accepts
                if accepts is True and verdict != "ok":
                    unsafe.append(case.name)
                elif accepts is False and verdict == "ok":
                    conservative.append(case.name)
            mark = "" if accepts is None else ("  [check accepts]" if accepts is True else "  [check rejects]" if accepts is False else f"  [{accepts}]")
            print(f"{verdict:6s} {case.name}" + (f": {detail}" if detail else "") + mark, flush=True)
    print(f"cv2 {__import__('cv2').__version__}, onnx {onnx.__version__}: " +
          ", ".join(f"{v} {sum(r['verdict'] == v for r in results)}" for v in ("ok", "load", "wrong", "shape", "crash", "ref")))
    if args.check:
        print(f"check --target opencv accepts {len(unsafe)} case(s) OpenCV fails: {'; '.join(unsafe) or '-'}")
        print(f"check --target opencv rejects {len(conservative)} case(s) OpenCV runs: {'; '.join(conservative) or '-'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
