#!/usr/bin/python3
"""Median latency of one forward pass in OpenCV DNN (Debian's python3-opencv), for bench/onnx_export.sh.

  bench/opencv_latency.py MODEL.pb|MODEL.onnx INPUT.npy THREADS RUNS [--nchw]

The TF importer takes NCHW blobs (the .npy is NHWC and is transposed); an ONNX model takes the
input as its graph declares (--nchw: the .npy is NHWC and the model wants NCHW). Prints
"latency_ms <median>" or "failed <reason>".
"""
import os
import sys
import time

os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")
import cv2  # noqa: E402
import numpy as np  # noqa: E402


def main():
    model, path, threads, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    nchw = "--nchw" in sys.argv[5:]
    cv2.setNumThreads(threads)
    x = np.load(path)
    onnx = model.endswith(".onnx")
    try:
        net = cv2.dnn.readNetFromONNX(model) if onnx else cv2.dnn.readNetFromTensorflow(model)
        if not onnx or nchw:
            x = np.ascontiguousarray(np.moveaxis(x, -1, 1))
        net.setInput(x)
        net.forward()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            net.setInput(x)
            net.forward()
            times.append((time.perf_counter() - start) * 1000)
    except cv2.error as e:
        lines = [line.strip(" >") for line in str(e).splitlines() if "error" in line or "expected" in line]
        print("failed:", " ".join(lines)[-120:] if lines else "error")
        return
    print("latency_ms", sorted(times)[len(times) // 2])


if __name__ == "__main__":
    main()
