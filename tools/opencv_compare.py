#!/usr/bin/python3
"""Runs a frozen graph in OpenCV DNN and in tffreeze's executor on the same random input and
prints both top-5 results and the largest difference. Debian's python3-opencv and numpy.

  tools/opencv_compare.py TFFREEZE_BIN MODEL.pb INPUT OUTPUT H W [SEED]
"""
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np


def main():
    if len(sys.argv) not in (7, 8):
        sys.exit(__doc__)
    tffreeze, model, input_name, output, h, w = sys.argv[1:7]
    seed = int(sys.argv[7]) if len(sys.argv) == 8 else 0
    x = np.random.RandomState(seed).uniform(-1, 1, (1, int(h), int(w), 3)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        np.save(os.path.join(tmp, "x.npy"), x)
        subprocess.run([tffreeze, "run", model, "-i", f"{input_name}={tmp}/x.npy", "--output", output, "--out-dir", tmp],
                       check=True, stdout=subprocess.DEVNULL)
        ours = np.load(os.path.join(tmp, output.replace("/", "_").replace(":", "_") + ".npy")).ravel()
    net = cv2.dnn.readNetFromTensorflow(model)
    net.setInput(x.transpose(0, 3, 1, 2))  # OpenCV wants NCHW blobs for TF graphs
    theirs = net.forward().ravel()
    top = lambda v: ", ".join(f"{i}:{v[i]:.5f}" for i in np.argsort(-v)[:5])
    print(f"tffreeze executor top-5: {top(ours)}")
    print(f"OpenCV DNN        top-5: {top(theirs)}")
    diff = float(np.abs(ours - theirs).max())
    print(f"max |tffreeze - OpenCV| = {diff:.3g} over {ours.size} outputs")
    sys.exit(0 if diff <= 1e-4 * max(1.0, float(np.abs(ours).max())) else 1)


if __name__ == "__main__":
    main()
