#!/usr/bin/env python3
"""Read a vktrain checkpoint (safetensors layout) with the standard library.

Usage:
    python3 scripts/read_checkpoint.py CHECKPOINT            # summary
    python3 scripts/read_checkpoint.py --json CHECKPOINT     # summary as JSON
    python3 scripts/read_checkpoint.py --values N CHECKPOINT # also the first N values
    python3 scripts/read_checkpoint.py --no-verify CHECKPOINT # read a damaged file anyway
    python3 scripts/read_checkpoint.py --infer PIXELS N CHECKPOINT
        # logits (JSON) of the first N images of PIXELS (raw bytes, HWC each),
        # computed as docs/CHECKPOINT.md specifies, in pure Python

The file is: 8 bytes little-endian header length, a JSON header mapping each
tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets
relative to the end of the header) plus "__metadata__" (string to string),
then the raw little-endian tensor data. vktrain writes F32 tensors only:
parameters and buffers under their names ("conv1.weight", ...), optimizer
momentum under "optim.<name>.momentum". Metadata values that are JSON
(model, options, quantizers, train_state, norm, class_names, tensor_crc32,
layer_settings, quant_codes) are decoded. docs/CHECKPOINT.md documents
every key and tensor and the exact inference computation.

Format vktrain/3 stores a CRC-32 (zlib.crc32) of each tensor's data bytes
under "tensor_crc32"; load() verifies them and refuses a damaged file naming
the tensor. Formats vktrain/1 and vktrain/2 have no checksums and are read
unverified (the summary says so). A newer format is refused. Tensors holding
NaN or infinite values are listed, and the exit status is then 1.

Only json, struct and zlib are needed; load() returns numpy arrays when
numpy is installed, else lists of floats.
"""

import json
import math
import struct
import sys
import zlib

DTYPES = {"F32": ("f", 4), "F64": ("d", 8), "I32": ("i", 4), "U8": ("B", 1), "I8": ("b", 1)}
JSON_META = ("model", "options", "quantizers", "train_state", "norm", "class_names",
             "tensor_crc32", "layer_settings", "quant_codes")
FORMAT_PREFIX = "vktrain/"
FORMAT_VERSION = 3  # the newest format this script reads


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


def format_version(meta):
    """Return the vktrain format number of the metadata (0 when it has none)."""
    f = meta.get("format", "")
    if not f.startswith(FORMAT_PREFIX):
        return 0
    try:
        n = int(f[len(FORMAT_PREFIX):])
    except ValueError:
        return 0
    if n > FORMAT_VERSION:
        raise CheckpointError("format %r is newer than this script reads (%s%d to %s1)"
                              % (f, FORMAT_PREFIX, FORMAT_VERSION, FORMAT_PREFIX))
    return n


def verify(meta, header, blob):
    """Check every tensor's CRC-32 against meta["tensor_crc32"].

    Returns the number of tensors verified (0 for a file without checksums,
    which format 3 files must have). Raises CheckpointError naming the first
    damaged tensor."""
    sums = meta.get("tensor_crc32")
    if sums is None:
        if format_version(meta) >= 3:
            raise CheckpointError("damaged: format %s without tensor_crc32" % meta.get("format"))
        return 0
    try:
        sums = json.loads(sums)
    except ValueError as e:
        raise CheckpointError("damaged: tensor_crc32 is not JSON: %s" % e)
    for name in sorted(header):
        begin, end = header[name]["data_offsets"]
        got = "%08x" % (zlib.crc32(blob[begin:end]) & 0xFFFFFFFF)
        want = sums.get(name)
        if want is None:
            raise CheckpointError("damaged: tensor %s has no checksum" % name)
        if got != want:
            raise CheckpointError("damaged: tensor %s: its data has CRC-32 %s, the header says %s" % (name, got, want))
    for name in sums:
        if name not in header:
            raise CheckpointError("damaged: tensor %s has a checksum but is not in the file" % name)
    return len(header)


def non_finite(tensors):
    """Return [(name, count, size)] for the tensors holding NaN or Inf."""
    out = []
    for name, (shape, values) in tensors.items():
        vals = flat(values)
        n = sum(1 for x in vals if math.isnan(x) or math.isinf(x))
        if n:
            out.append((name, n, len(vals)))
    return out


def load(path, check=True):
    """Return (metadata dict with JSON values decoded, {name: (shape, values)}).

    With check (the default) the format must be one this script reads and
    the checksums of a format-3 file must match."""
    meta, tensors, _ = load_verified(path, check)
    return meta, tensors


def load_verified(path, check=True):
    """Like load, and also return the number of tensors whose checksum was
    verified (0: the file has none, or check is false)."""
    with open(path, "rb") as f:
        meta, header, base = read_header(f)
        blob = f.read()
    verified = 0
    if check:
        format_version(meta)
        for name, e in header.items():
            if not isinstance(e, dict) or "data_offsets" not in e:
                raise CheckpointError("tensor %s: no data_offsets" % name)
        verified = verify(meta, header, blob)
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
    return decoded, tensors, verified


# ---------------------------------------------------------------------------
# Inference exactly as docs/CHECKPOINT.md section 8 specifies it, in float32
# emulated with Python floats (each float32 operation is done in float64 and
# rounded once to float32, which is the correctly rounded float32 result).
# It is slow (pure Python) and meant for checking a few images bit for bit.


def f32(x):
    """Round a Python float to the nearest float32 (ties to even)."""
    try:
        return struct.unpack("<f", struct.pack("<f", x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def round_half_away(v):
    return math.copysign(math.floor(abs(v) + 0.5), v)


def wrap32(v):
    """Two's complement wrap of an integer to int32."""
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


class _Quant:
    """Scale and integer zero point per channel, and the code map."""

    def __init__(self, tensors, name, rng):
        self.qmin, self.qmax = rng["qmin"], rng["qmax"]
        scale = flat(tensors[name + ".scale"][1])
        zero = flat(tensors[name + ".zero"][1])
        self.s, self.inv, self.z = [], [], []
        for sc, zf in zip(scale, zero):
            if not sc > 0 or math.isinf(sc):
                sc = 1.0
            z = round_half_away(zf)
            z = int(min(max(z, self.qmin), self.qmax))
            self.s.append(sc)
            self.inv.append(f32(1.0 / sc))
            self.z.append(z)

    def code(self, x, c=0):
        v = f32(x * self.inv[c])
        if v != v:
            return min(max(self.z[c], self.qmin), self.qmax)
        if math.isinf(v):
            return self.qmax if v > 0 else self.qmin
        r = round_half_away(v) + self.z[c]
        if r <= self.qmin:
            return self.qmin
        if r >= self.qmax:
            return self.qmax
        return int(r)


def _dequant(v, m, bias):
    return f32(f32(m * f32(float(wrap32(v)))) + bias)


def _window(n, k, s, p):
    return (n + 2 * p - k) // s + 1


def infer(meta, tensors, pixels):
    """Return the logits of one image (bytes, H*W*C in HWC order).

    meta and tensors are what load() returns."""
    model = meta["model"]
    H, W, C = model["input"]
    if meta["options"]["Quant"].get("Float"):
        raise CheckpointError("float models are not reproducible bit for bit (docs/CHECKPOINT.md 8.5)")
    codes = meta.get("quant_codes") or {}
    ranges = codes.get("quantizers") if codes else None
    settings = meta.get("layer_settings") or {}
    bits = meta["options"]["Quant"].get("Bits") or 8

    def qrange(name):
        if ranges:
            return ranges[name]
        # formats 1 and 2: signed symmetric weights, unsigned inputs
        if name.endswith(".wq"):
            m = (1 << (bits - 1)) - 1
            return {"qmin": -m, "qmax": m}
        return {"qmin": 0, "qmax": (1 << bits) - 1}

    def T(name):
        return flat(tensors[name][1])

    norm = meta.get("norm") or {}
    mean, std = norm.get("Mean") or [0.0] * C, norm.get("Std") or [1.0] * C
    x = [f32((p / 255.0 - mean[i % C]) / std[i % C]) for i, p in enumerate(pixels)]
    outs = {"input": (x, (H, W, C))}
    prev = "input"
    for l in model["layers"]:
        name, typ = l["name"], l["type"]
        ins = l.get("inputs") or [prev]
        if typ == "add" and len(ins) == 1:
            ins = [prev, ins[0]]
        x, shape = outs[ins[0]]
        if typ in ("conv", "fc", "dw"):
            xq = _Quant(tensors, name + ".xq", qrange(name + ".xq"))
            wq = _Quant(tensors, name + ".wq", qrange(name + ".wq"))
            w, bias = T(name + ".weight"), T(name + ".bias")
            qx = [xq.code(v) for v in x]
            zx, sx = xq.z[0], xq.s[0]
            if typ == "dw":
                h, wd, c = shape
                k, s, p = l["kernel"], l.get("stride", 1) or 1, l.get("pad", 0)
                oh, ow = _window(h, k, s, p), _window(wd, k, s, p)
                kk = k * k
                chan = lambda ch: ch if len(wq.s) > 1 else 0
                qw = [wq.code(w[i], chan(i // kk)) for i in range(len(w))]
                y = []
                for oy in range(oh):
                    for ox in range(ow):
                        for ch in range(c):
                            acc = 0
                            cc = chan(ch)
                            for kh in range(k):
                                iy = oy * s - p + kh
                                if iy < 0 or iy >= h:
                                    continue
                                for kw in range(k):
                                    ix = ox * s - p + kw
                                    if ix < 0 or ix >= wd:
                                        continue
                                    acc += (qx[(iy * wd + ix) * c + ch] - zx) * (qw[ch * kk + kh * k + kw] - wq.z[cc])
                            y.append(_dequant(acc, f32(sx * wq.s[cc]), bias[ch]))
                outs[name] = (y, (oh, ow, c))
            else:
                out = l["out"]
                if typ == "conv":
                    h, wd, c = shape
                    k, s, p = l["kernel"], l.get("stride", 1) or 1, l.get("pad", 0)
                    oh, ow = _window(h, k, s, p), _window(wd, k, s, p)
                    rows = []
                    for oy in range(oh):
                        for ox in range(ow):
                            row = []
                            for kh in range(k):
                                iy = oy * s - p + kh
                                for kw in range(k):
                                    ix = ox * s - p + kw
                                    if 0 <= iy < h and 0 <= ix < wd:
                                        base = (iy * wd + ix) * c
                                        row.extend(qx[base:base + c])
                                    else:
                                        row.extend([zx] * c)
                            rows.append(row)
                    oshape = (oh, ow, out)
                else:
                    rows = [qx]
                    oshape = (out,)
                kd = len(rows[0])
                qw, m, zw, sw = [], [], [], []
                for o in range(out):
                    ch = o if len(wq.s) > 1 else 0
                    qw.append([wq.code(v, ch) for v in w[o * kd:(o + 1) * kd]])
                    m.append(f32(sx * wq.s[ch]))
                    zw.append(wq.z[ch])
                    sw.append(sum(qw[o]))
                y = []
                for row in rows:
                    sa = sum(row)
                    for o in range(out):
                        acc = sum(a * b for a, b in zip(row, qw[o]))
                        v = acc - zw[o] * sa - zx * sw[o] + kd * zx * zw[o]
                        y.append(_dequant(v, m[o], bias[o]))
                outs[name] = (y, oshape)
        elif typ == "comp":
            c = shape[-1]
            g, b, e = T(name + ".gamma"), T(name + ".beta"), T(name + ".running_mean")
            ge = [f32(g[j] * e[j]) for j in range(c)]
            outs[name] = ([f32(f32(v + ge[i % c]) + b[i % c]) for i, v in enumerate(x)], shape)
        elif typ == "bn":
            c = shape[-1]
            eps = f32(settings.get(name, {}).get("eps", 1e-5))
            g, b = T(name + ".gamma"), T(name + ".beta")
            mu, var = T(name + ".running_mean"), T(name + ".running_var")
            sd = [f32(math.sqrt(f32(var[j] + eps))) for j in range(c)]
            y = []
            for i, v in enumerate(x):
                j = i % c
                y.append(f32(f32(f32(g[j] * f32(v - mu[j])) / sd[j]) + b[j]))
            outs[name] = (y, shape)
        elif typ == "relu":
            outs[name] = ([v if v > 0 else 0.0 for v in x], shape)
        elif typ in ("pool", "avgpool", "gap"):
            h, wd, c = shape
            if typ == "gap":
                kh_, kw_, sh, sw_ = h, wd, h, wd
            else:
                kh_ = kw_ = l["size"]
                sh = sw_ = l.get("stride") or l["size"]
            oh, ow = (h - kh_) // sh + 1, (wd - kw_) // sw_ + 1
            inv = f32(1.0 / f32(float(kh_ * kw_)))
            y = []
            for oy in range(oh):
                for ox in range(ow):
                    for ch in range(c):
                        win = [x[((oy * sh + ky) * wd + ox * sw_ + kx) * c + ch] for ky in range(kh_) for kx in range(kw_)]
                        if typ == "pool":
                            best = win[0]
                            for v in win[1:]:
                                if v > best:
                                    best = v
                            y.append(best)
                        else:
                            acc = 0.0
                            for v in win:
                                acc = f32(acc + v)
                            y.append(f32(acc * inv))
            outs[name] = (y, (c,) if typ == "gap" else (oh, ow, c))
        elif typ == "add":
            a, _ = outs[ins[0]]
            b, _ = outs[ins[1]]
            outs[name] = ([f32(u + v) for u, v in zip(a, b)], shape)
        elif typ == "flatten":
            outs[name] = (x, (len(x),))
        else:
            raise CheckpointError("layer %s: unknown type %s" % (name, typ))
        prev = name
    return outs[prev][0]


def flat(values):
    try:
        return [float(x) for x in values.reshape(-1)]
    except AttributeError:
        return [float(x) for x in values]


def main(argv):
    as_json, nvalues, check, paths, infer_from, infer_n = False, 0, True, [], None, 0
    it = iter(argv)
    for a in it:
        if a == "--infer":
            infer_from, infer_n = next(it), int(next(it))
        elif a == "--json":
            as_json = True
        elif a == "--no-verify":
            check = False
        elif a == "--values":
            nvalues = int(next(it))
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            paths.append(a)
    if len(paths) != 1:
        print("usage: read_checkpoint.py [--json] [--values N] [--no-verify] [--infer PIXELS N] CHECKPOINT", file=sys.stderr)
        return 2
    try:
        meta, tensors, verified = load_verified(paths[0], check)
    except (OSError, CheckpointError, KeyError, TypeError, ValueError) as e:
        print("read_checkpoint.py: %s: %s" % (paths[0], e), file=sys.stderr)
        return 1
    bad = non_finite(tensors)
    status = 1 if bad else 0
    if infer_from is not None:
        if bad:
            print("read_checkpoint.py: %s: non-finite parameters" % paths[0], file=sys.stderr)
            return 1
        h, w, c = meta["model"]["input"]
        with open(infer_from, "rb") as f:
            pix = f.read()
        size = h * w * c
        logits = [infer(meta, tensors, pix[i * size:(i + 1) * size]) for i in range(infer_n)]
        json.dump(logits, sys.stdout)
        print()
        return 0
    if as_json:
        out = {"metadata": meta, "tensors": {}, "verified": verified,
               "non_finite": {name: n for name, n, _ in bad}}
        for name, (shape, values) in tensors.items():
            ent = {"shape": shape}
            if nvalues:
                ent["values"] = flat(values)[:nvalues]
            out["tensors"][name] = ent
        json.dump(out, sys.stdout, indent=1, sort_keys=True)
        print()
        return status
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
    if verified:
        print("checksums: all %d tensors match their CRC-32" % verified)
    elif check:
        print("checksums: none (format %s); the data cannot be verified" % meta.get("format", "?"))
    else:
        print("checksums: not verified (--no-verify)")
    for name, n, size in bad:
        print("non-finite: %s: %d of %d values are NaN/Inf" % (name, n, size))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
