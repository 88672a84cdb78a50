"""Peak RSS of reading every tensor of a checkpoint through tffreeze.Checkpoint, next to its
largest tensor. Each array is summed (every page touched) and dropped before the next; the
resident set must not grow by more than the largest tensor (plus 1 MiB of slack for the
interpreter's own small allocations): exit 1 otherwise.
    PYTHONPATH=build/python /usr/bin/python3 bench/python_checkpoint.py PREFIX
"""
import resource
import sys
import time

import numpy as np

import tffreeze


def peak_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(prefix):
    ckpt = tffreeze.Checkpoint(prefix)
    sizes = {name: int(np.prod(shape, dtype=np.int64)) * ckpt.dtypes[name].itemsize for name, shape in ckpt.shapes.items()
             if ckpt.dtypes[name] != object}
    largest = max(sizes.values())
    # Warm-up: NumPy's reductions import and allocate on their first call; that is the
    # interpreter's, not the reading's.
    smallest = min(sizes, key=sizes.get)
    float(ckpt[smallest].sum(dtype=np.float64))
    before = peak_kib()
    start = time.perf_counter()
    total, views = 0, 0
    for name in ckpt:
        array = ckpt[name]
        views += not array.flags.owndata and not array.flags.writeable
        total += array.nbytes
        float(array.sum(dtype=np.float64)) if array.dtype != object else None
        del array
    seconds = time.perf_counter() - start
    growth = (peak_kib() - before) * 1024
    print(f"read {len(ckpt)} tensors, {total >> 20} MiB ({views} as views of the mapped file) in {seconds:.3f} s; "
          f"peak RSS {peak_kib() >> 10} MiB, grew {growth / 2**20:.1f} MiB while reading; largest tensor {largest / 2**20:.1f} MiB")
    return 0 if growth <= largest + (1 << 20) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
