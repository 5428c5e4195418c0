#!/usr/bin/env python3
"""Train vktrain's patent network in PyTorch, fp32 and QAT, for comparison.

The network is vktrain's default (named model "patent"):

    conv:32:3,comp,bn,relu,pool:2,fc:128,comp,relu,fc:10,comp

approximated in PyTorch: comp is the error-compensation layer of the method
(docs/METHOD.md, S200), y = x + gamma * E + beta per channel, with E the
channel's batch mean in training and a running mean (momentum 0.1) in
inference, gamma = beta = 0 at the start (nn/simple.go, Compensation). The
training recipe is vktrain train's defaults: SGD, lr 0.01, momentum 0.9,
every gradient element clipped to [-1, 1] (threshold 1), an L2 term of
weight 1e-4 on the compensation parameters, inputs normalised by the
training set's mean and standard deviation, batch 64, seeded shuffling.

Modes:
    fp32  the network in float32
    qat   quantization-aware training in PyTorch's eager mode: fake-quant
          int8 of the input, of the conv/fc weights and of their outputs
          (torch.ao.quantization's default QAT qconfig for qnnpack, or
          --qconfig fbgemm; prepare_qat); the
          compensation, batch norm, ReLU and pooling stay in float. The
          accuracy and inference figures are those of the fake-quant model
          on the same device (PyTorch's converted int8 kernels run on the
          CPU only, so no conversion is done here).

MNIST is read from the four IDX files (plain or .gz) in --data; nothing is
downloaded. One JSON object per mode goes to stdout with --json; a readable
line per mode goes to stderr.

Example (the GPU check, tools/gpu-check.sh, runs it so):

    python3 scripts/torch_mnist.py --data .cache/gpucheck/data/mnist \\
        --device auto --modes fp32,qat --epochs 1 --json
"""

import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # said plainly, with the interpreter that lacks it
    sys.stderr.write("torch_mnist: MISSING: PyTorch is not importable by %s (%s)\n" % (sys.executable, e))
    sys.exit(3)


IDX_FILES = {
    "train_images": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "train_labels": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "test_images": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "test_labels": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}


def find_idx(folder, key):
    """Returns the path of one of the IDX files in folder (plain or .gz)."""
    tried = []
    for base in IDX_FILES[key]:
        for name in (base, base + ".gz"):
            p = os.path.join(folder, name)
            tried.append(p)
            if os.path.isfile(p):
                return p
    raise FileNotFoundError("MNIST file missing: none of %s" % ", ".join(tried))


def read_idx(path):
    """Reads an IDX file of unsigned bytes into a uint8 tensor of its shape."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4:
        raise ValueError("%s: too short for an IDX file" % path)
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError("%s: not an IDX file of unsigned bytes (magic %02x %02x)" % (path, zero, dtype))
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    n = 1
    for d in dims:
        n *= d
    body = raw[4 + 4 * ndim:]
    if len(body) != n:
        raise ValueError("%s: %d data bytes, the header says %d" % (path, len(body), n))
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(dims)


def load_mnist(folder, limit):
    """Returns (train_x, train_y, test_x, test_y): float32 N×1×28×28 images
    normalised by the training set's mean and standard deviation, int64 labels."""
    tx = read_idx(find_idx(folder, "train_images"))
    ty = read_idx(find_idx(folder, "train_labels"))
    vx = read_idx(find_idx(folder, "test_images"))
    vy = read_idx(find_idx(folder, "test_labels"))
    if tx.shape[0] != ty.shape[0] or vx.shape[0] != vy.shape[0]:
        raise ValueError("MNIST in %s: image and label counts differ" % folder)
    if limit > 0:
        tx, ty = tx[:limit], ty[:limit]
    tx = tx.float().div_(255.0)
    vx = vx.float().div_(255.0)
    mean, std = tx.mean().item(), tx.std().item()
    tx = tx.sub_(mean).div_(std).unsqueeze(1)
    vx = vx.sub_(mean).div_(std).unsqueeze(1)
    return tx, ty.long(), vx, vy.long()


class Comp(nn.Module):
    """Error compensation: y = x + gamma * E + beta per channel (dimension 1).

    E is the channel's mean over the batch (and positions) in training, a
    running mean in evaluation; gamma = beta = 0 at the start (the identity).
    """

    def __init__(self, channels, momentum=0.1):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(channels))
        self.beta = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.momentum = momentum

    def forward(self, x):
        shape = [1, -1] + [1] * (x.dim() - 2)
        if self.training:
            dims = [0] + list(range(2, x.dim()))
            e = x.mean(dim=dims)
            with torch.no_grad():
                self.running_mean.mul_(1 - self.momentum).add_(e.detach(), alpha=self.momentum)
        else:
            e = self.running_mean
        return x + (self.gamma * e + self.beta).view(shape)


class PatentNet(nn.Module):
    """conv:32:3,comp,bn,relu,pool:2,fc:128,comp,relu,fc:10,comp on 28×28×1."""

    def __init__(self, qat_stubs=False):
        super().__init__()
        self.quant = torch.ao.quantization.QuantStub() if qat_stubs else nn.Identity()
        self.conv = nn.Conv2d(1, 32, 3)
        self.comp1 = Comp(32)
        self.bn = nn.BatchNorm2d(32)
        self.fc1 = nn.Linear(32 * 13 * 13, 128)
        self.comp2 = Comp(128)
        self.fc2 = nn.Linear(128, 10)
        self.comp3 = Comp(10)
        self.dequant = torch.ao.quantization.DeQuantStub() if qat_stubs else nn.Identity()
        for m in (self.conv, self.fc1, self.fc2):  # He-normal, as vktrain
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.quant(x)
        x = F.max_pool2d(F.relu(self.bn(self.comp1(self.conv(x)))), 2)
        x = F.relu(self.comp2(self.fc1(torch.flatten(x, 1))))
        x = self.comp3(self.fc2(x))
        return self.dequant(x)

    def comp_params(self):
        return [p for m in (self.comp1, self.comp2, self.comp3) for p in (m.gamma, m.beta)]


def build(mode, device, qconfig):
    """The network for mode (fp32 or qat) on device, in training mode; qat
    takes torch.ao.quantization's default QAT qconfig of that name."""
    if mode == "fp32":
        return PatentNet().to(device).train()
    if mode != "qat":
        raise ValueError("unknown mode %r (fp32 or qat)" % mode)
    q = torch.ao.quantization
    m = PatentNet(qat_stubs=True).train()
    m.qconfig = q.get_default_qat_qconfig(qconfig)
    for c in (m.comp1, m.comp2, m.comp3, m.bn):  # float layers: no observers
        c.qconfig = None
    q.prepare_qat(m, inplace=True)
    return m.to(device)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_epoch(model, opt, x, y, batch, threshold, l2, seed, epoch, device):
    """One epoch of vktrain's recipe; returns (mean loss, seconds, images)."""
    comp = model.comp_params()
    g = torch.Generator().manual_seed(seed * 1000003 + epoch)
    order = torch.randperm(x.shape[0], generator=g).to(device)
    steps = x.shape[0] // batch
    total = torch.zeros((), device=device)
    sync(device)
    t0 = time.perf_counter()
    for s in range(steps):
        idx = order[s * batch:(s + 1) * batch]
        xb, yb = x.index_select(0, idx), y.index_select(0, idx)
        out = model(xb)
        loss = F.cross_entropy(out, yb)
        if l2 > 0:
            loss = loss + l2 * sum((p * p).sum() for p in comp)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if threshold > 0:
            for p in model.parameters():
                if p.grad is not None:
                    p.grad.clamp_(-threshold, threshold)
        opt.step()
        total += loss.detach()
    sync(device)
    secs = time.perf_counter() - t0
    return (total.item() / max(steps, 1)), secs, steps * batch


@torch.no_grad()
def evaluate(model, x, y, batch, device):
    """Test loss, accuracy (%) and inference images per second (the second of
    two passes, so that kernels are chosen and memory is allocated)."""
    model.eval()
    for rep in range(2):
        loss, correct = torch.zeros((), device=device), torch.zeros((), device=device, dtype=torch.long)
        sync(device)
        t0 = time.perf_counter()
        for i in range(0, x.shape[0], batch):
            out = model(x[i:i + batch])
            loss += F.cross_entropy(out, y[i:i + batch], reduction="sum")
            correct += (out.argmax(1) == y[i:i + batch]).sum()
        sync(device)
        secs = time.perf_counter() - t0
    model.train()
    n = x.shape[0]
    return loss.item() / n, 100.0 * correct.item() / n, n / secs


def steady_train_rate(model, opt, x, y, batch, threshold, l2, device, steps):
    """Training images per second over `steps` steps after 3 warm-up steps on
    fixed batches (the shape of vktrain bench's figure)."""
    comp = model.comp_params()

    def step(s):
        i = (s * batch) % max(x.shape[0] - batch, 1)
        out = model(x[i:i + batch])
        loss = F.cross_entropy(out, y[i:i + batch]) + l2 * sum((p * p).sum() for p in comp)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for p in model.parameters():
            if p.grad is not None:
                p.grad.clamp_(-threshold, threshold)
        opt.step()

    for s in range(3):
        step(s)
    sync(device)
    t0 = time.perf_counter()
    for s in range(steps):
        step(s + 3)
    sync(device)
    return steps * batch / (time.perf_counter() - t0)


def pick_device(name):
    """torch.device for --device; auto is cuda when PyTorch sees a GPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda"), "auto: CUDA available"
        return torch.device("cpu"), "auto: MISSING CUDA (torch.cuda.is_available() is False), running on the CPU"
    d = torch.device(name)
    if d.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("torch_mnist: MISSING: --device %s but torch.cuda.is_available() is False (torch %s, built for CUDA %s)" %
                         (name, torch.__version__, torch.version.cuda))
    return d, "asked for"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="folder with the four MNIST IDX files (plain or .gz)")
    ap.add_argument("--device", default="auto", help="auto, cuda, cuda:N or cpu (default auto)")
    ap.add_argument("--modes", default="fp32,qat", help="comma-separated: fp32, qat (default both)")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--eval-batch", type=int, default=256)
    ap.add_argument("--limit", type=int, default=0, help="use only the first N training images (0 = all)")
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--threshold", type=float, default=1.0, help="element-wise gradient clip (0 = off)")
    ap.add_argument("--l2", type=float, default=1e-4, help="weight of the L2 term on the compensation parameters")
    ap.add_argument("--bench-steps", type=int, default=50, help="timed steady-state training steps per mode (0 = none)")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads for PyTorch (0 = its default)")
    ap.add_argument("--qconfig", default="qnnpack",
                    help="QAT qconfig: qnnpack (full 8-bit activations, per-tensor weights; default) or fbgemm (7-bit activations, per-channel weights)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="one JSON object per mode on stdout")
    a = ap.parse_args(argv)
    if a.epochs < 1 or a.batch < 1 or a.eval_batch < 1 or a.limit < 0 or a.bench_steps < 0:
        ap.error("--epochs, --batch, --eval-batch must be positive; --limit, --bench-steps not negative")
    modes = [m.strip() for m in a.modes.split(",") if m.strip()]
    for m in modes:
        if m not in ("fp32", "qat"):
            ap.error("--modes: unknown mode %r (fp32 or qat)" % m)
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    device, why = pick_device(a.device)
    dev_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu (%d threads)" % torch.get_num_threads()
    sys.stderr.write("torch_mnist: torch %s (CUDA %s), device %s: %s [%s]\n" %
                     (torch.__version__, torch.version.cuda, device, dev_name, why))

    tx, ty, vx, vy = load_mnist(a.data, a.limit)
    if tx.shape[0] < a.batch:
        raise SystemExit("torch_mnist: %d training images, fewer than one batch of %d" % (tx.shape[0], a.batch))
    tx, ty, vx, vy = (t.to(device) for t in (tx, ty, vx, vy))
    for mode in modes:
        torch.manual_seed(a.seed)
        model = build(mode, device, a.qconfig)
        opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum)
        epochs = []
        for ep in range(a.epochs):
            loss, secs, n = train_epoch(model, opt, tx, ty, a.batch, a.threshold, a.l2, a.seed, ep, device)
            tl, acc, ips = evaluate(model, vx, vy, a.eval_batch, device)
            epochs.append({"epoch": ep + 1, "train_loss": loss, "train_seconds": secs,
                           "train_images_per_second": n / secs, "test_loss": tl, "test_accuracy": acc})
            sys.stderr.write("torch_mnist: %s epoch %d: train loss %.4f, %.1f s (%.0f img/s), test loss %.4f, accuracy %.2f%%\n" %
                             (mode, ep + 1, loss, secs, n / secs, tl, acc))
        steady = steady_train_rate(model, opt, tx, ty, a.batch, a.threshold, a.l2, device, a.bench_steps) if a.bench_steps else None
        res = {
            "framework": "pytorch", "torch": torch.__version__, "cuda": torch.version.cuda,
            "device": str(device), "device_name": dev_name, "device_choice": why,
            "model": "patent", "spec": "conv:32:3,comp,bn,relu,pool:2,fc:128,comp,relu,fc:10,comp",
            "mode": mode, "qconfig": a.qconfig if mode == "qat" else None,
            "batch": a.batch, "eval_batch": a.eval_batch, "train_images": tx.shape[0], "test_images": vx.shape[0],
            "epochs": epochs,
            "train_loss": epochs[-1]["train_loss"], "test_loss": epochs[-1]["test_loss"],
            "test_accuracy": epochs[-1]["test_accuracy"],
            "epoch_train_images_per_second": epochs[-1]["train_images_per_second"],
            "train_images_per_second": steady, "bench_steps": a.bench_steps,
            "infer_images_per_second": ips,
            "infer_note": "fake-quant model on the device" if mode == "qat" else "fp32",
        }
        if steady is not None:
            sys.stderr.write("torch_mnist: %s steady state: train %.0f img/s (batch %d), inference %.0f img/s (batch %d)\n" %
                             (mode, steady, a.batch, ips, a.eval_batch))
        if a.json:
            sys.stdout.write(json.dumps(res) + "\n")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
