#!/usr/bin/python3
"""Runs a frozen graph in OpenCV DNN (readNetFromTensorflow; an .onnx file: readNetFromONNX) on given inputs and
saves its outputs, as a child process a caller can time out or see crash. Debian's python3-opencv and numpy.

  tools/opencv_run.py MODEL.pb|MODEL.onnx OUTDIR [--input NAME=X.npy ...] --output NAME[:K] [--output ...] [--no-transpose]

An ONNX model takes its inputs as they are. For a TF graph, 4-D (5-D) float inputs are NHWC (NDHWC) in the .npy and go to
OpenCV as NCHW (NCDHW) blobs; outputs come back (--no-transpose:
as they are, for NCHW graphs and those OpenCV keeps in TensorFlow's layout). NAME:K is output K
of layer NAME. Each output is written as OUTDIR/<name with / and : as _>.npy. On a cv2.error: one line
`opencv: <message>` on stderr, exit 2. cv2 4.6 reads a 3-D array as a 2-D multi-channel Mat: 3-D inputs do not
reach OpenCV as such.
"""
import argparse
import os
import sys

os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")  # the one-line message below says it
import cv2  # noqa: E402
import numpy as np  # noqa: E402


def layer_name(net, wanted, count):
    """OpenCV fuses nodes into layers named after the first of them (MatMul + bias add becomes
    layer "MatMul"): a single wanted output that names no layer is the network's only unconnected
    output, if it has one; otherwise the error names what there is."""
    if net.getLayerId(wanted) >= 0:
        return wanted
    unconnected = net.getUnconnectedOutLayersNames()
    if count == 1 and len(unconnected) == 1:
        return unconnected[0]
    raise cv2.error(f"no layer '{wanted}' (fused or dropped by OpenCV; its outputs: {', '.join(unconnected)})")


def main():
    parser = argparse.ArgumentParser(usage=__doc__)
    parser.add_argument("model")
    parser.add_argument("outdir")
    parser.add_argument("--input", action="append", default=[], metavar="NAME=X.npy")
    parser.add_argument("--output", action="append", required=True, metavar="NAME[:K]")
    parser.add_argument("--no-transpose", action="store_true")
    args = parser.parse_args()
    pins = [(name, 0) if ":" not in name else (name.rsplit(":", 1)[0], int(name.rsplit(":", 1)[1])) for name in args.output]
    try:
        onnx = args.model.endswith(".onnx")
        net = cv2.dnn.readNetFromONNX(args.model) if onnx else cv2.dnn.readNetFromTensorflow(args.model)
        for spec in args.input:
            name, path = spec.rsplit("=", 1)
            x = np.load(path)
            if x.ndim in (4, 5) and x.dtype.kind == "f" and not args.no_transpose and not onnx:
                x = np.moveaxis(x, -1, 1)  # OpenCV wants NCHW (NCDHW) blobs for TF graphs
            net.setInput(np.ascontiguousarray(x), name)
        pins = [(layer_name(net, layer, len(pins)), k) for layer, k in pins]
        if all(k == 0 for _, k in pins):
            outputs = net.forward([layer for layer, _ in pins])
        else:  # every output of each layer
            outputs = [blobs[k] for blobs, (_, k) in zip(net.forwardAndRetrieve([layer for layer, _ in pins]), pins)]
    except cv2.error as e:
        # The first line says where; the importer's "> Node ... parse error: ..." lines say why.
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        why = " ".join(line.lstrip("> ") for line in lines[1:])
        print(f"opencv: {lines[0] if lines else 'error'}" + (f" {why}" if why else ""), file=sys.stderr)
        sys.exit(2)
    os.makedirs(args.outdir, exist_ok=True)
    for name, y in zip(args.output, outputs):
        if y.ndim in (4, 5) and not args.no_transpose and not onnx:
            y = np.moveaxis(y, 1, -1)
        np.save(os.path.join(args.outdir, name.replace("/", "_").replace(":", "_") + ".npy"), y)


if __name__ == "__main__":
    main()
