#!/usr/bin/env python3
"""Read a vktrain checkpoint (safetensors layout) with the standard library.

Usage:
    python3 scripts/read_checkpoint.py CHECKPOINT            # summary
    python3 scripts/read_checkpoint.py --json CHECKPOINT     # summary as JSON
    python3 scripts/read_checkpoint.py --values N CHECKPOINT # also the first N values

The file is: 8 bytes little-endian header length, a JSON header mapping each
tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets
relative to the end of the header) plus "__metadata__" (string to string),
then the raw little-endian tensor data. vktrain writes F32 tensors only:
parameters and buffers under their names ("conv1.weight", ...), optimizer
momentum under "optim.<name>.momentum". Metadata values that are JSON
(model, options, quantizers, train_state, norm, class_names) are decoded.

Only json and struct are needed; load() returns numpy arrays when numpy is
installed, else lists of floats.
"""

import json
import struct
import sys

DTYPES = {"F32": ("f", 4), "F64": ("d", 8), "I32": ("i", 4), "U8": ("B", 1), "I8": ("b", 1)}
JSON_META = ("model", "options", "quantizers", "train_state", "norm", "class_names")


class CheckpointError(Exception):
    """The file is not a readable safetensors checkpoint."""


def read_header(f):
    raw = f.read(8)
    if len(raw) != 8:
        raise CheckpointError("file too short for a header length")
    (n,) = struct.unpack("<Q", raw)
    if n == 0 or n > 64 << 20:
        raise CheckpointError("implausible header length %d" % n)
    hj = f.read(n)
    if len(hj) != n:
        raise CheckpointError("truncated header")
    try:
        header = json.loads(hj.decode("utf-8"))
    except ValueError as e:
        raise CheckpointError("header is not JSON: %s" % e)
    meta = header.pop("__metadata__", {}) or {}
    return meta, header, 8 + n


def load(path):
    """Return (metadata dict with JSON values decoded, {name: (shape, values)})."""
    with open(path, "rb") as f:
        meta, header, base = read_header(f)
        blob = f.read()
    tensors = {}
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        dt = e.get("dtype")
        if dt not in DTYPES:
            raise CheckpointError("tensor %s: unsupported dtype %s" % (name, dt))
        code, size = DTYPES[dt]
        shape = e["shape"]
        begin, end = e["data_offsets"]
        count = 1
        for d in shape:
            count *= d
        if end - begin != count * size:
            raise CheckpointError("tensor %s: offsets %s do not match shape %s" % (name, e["data_offsets"], shape))
        if end > len(blob):
            raise CheckpointError("tensor %s: data truncated (needs %d bytes, file has %d)" % (name, end, len(blob)))
        values = struct.unpack_from("<%d%s" % (count, code), blob, begin)
        try:
            import numpy as np

            values = np.array(values, dtype=np.float32 if dt == "F32" else None).reshape(shape)
        except ImportError:
            values = list(values)
        tensors[name] = (shape, values)
    decoded = {}
    for k, v in meta.items():
        if k in JSON_META:
            try:
                v = json.loads(v)
            except ValueError:
                pass
        decoded[k] = v
    return decoded, tensors


def flat(values):
    try:
        return [float(x) for x in values.reshape(-1)]
    except AttributeError:
        return [float(x) for x in values]


def main(argv):
    as_json, nvalues, paths = False, 0, []
    it = iter(argv)
    for a in it:
        if a == "--json":
            as_json = True
        elif a == "--values":
            nvalues = int(next(it))
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            paths.append(a)
    if len(paths) != 1:
        print("usage: read_checkpoint.py [--json] [--values N] CHECKPOINT", file=sys.stderr)
        return 2
    try:
        meta, tensors = load(paths[0])
    except (OSError, CheckpointError, KeyError, TypeError) as e:
        print("read_checkpoint.py: %s: %s" % (paths[0], e), file=sys.stderr)
        return 1
    if as_json:
        out = {"metadata": meta, "tensors": {}}
        for name, (shape, values) in tensors.items():
            ent = {"shape": shape}
            if nvalues:
                ent["values"] = flat(values)[:nvalues]
            out["tensors"][name] = ent
        json.dump(out, sys.stdout, indent=1, sort_keys=True)
        print()
        return 0
    print("metadata:")
    for k in sorted(meta):
        v = meta[k]
        s = v if isinstance(v, str) else json.dumps(v, sort_keys=True)
        if len(s) > 200:
            s = s[:197] + "..."
        print("  %s: %s" % (k, s))
    total = 0
    print("tensors:")
    for name, (shape, values) in tensors.items():
        n = 1
        for d in shape:
            n *= d
        total += n
        line = "  %-40s %s" % (name, shape)
        if nvalues:
            line += "  " + " ".join("%.6g" % x for x in flat(values)[:nvalues])
        print(line)
    print("%d tensors, %d values" % (len(tensors), total))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
