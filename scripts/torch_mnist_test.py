"""Tests of scripts/torch_mnist.py (run: python3 -m unittest scripts/torch_mnist_test.py,
with a Python that has torch, e.g. Debian's /usr/bin/python3 with python3-torch)."""

import gzip
import os
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import torch_mnist as tm  # noqa: E402


def write_idx(path, data, shape):
    """Writes bytes data of shape as an IDX file of unsigned bytes (gz by name)."""
    head = struct.pack(">HBB", 0, 0x08, len(shape)) + struct.pack(">" + "I" * len(shape), *shape)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(head + bytes(data))


class ReadIDX(unittest.TestCase):
    def test_round_trip_plain_and_gz(self):
        with tempfile.TemporaryDirectory() as d:
            for name in ("a.idx", "a.idx.gz"):
                p = os.path.join(d, name)
                write_idx(p, range(24), (2, 3, 4))
                t = tm.read_idx(p)
                self.assertEqual(tuple(t.shape), (2, 3, 4))
                self.assertEqual(t.dtype, torch.uint8)
                self.assertEqual(t[1, 2, 3].item(), 23)

    def test_refuses_bad_files(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "bad")
            with open(p, "wb") as f:
                f.write(struct.pack(">HBB", 0, 0x0D, 1) + struct.pack(">I", 1) + b"\0\0\0\0")
            with self.assertRaisesRegex(ValueError, "unsigned bytes"):
                tm.read_idx(p)
            write_idx(p, range(5), (6,))
            with self.assertRaisesRegex(ValueError, "5 data bytes, the header says 6"):
                tm.read_idx(p)

    def test_load_mnist_names_missing_file(self):
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaisesRegex(FileNotFoundError, "train-images-idx3-ubyte"):
                tm.load_mnist(d, 0)

    def test_load_mnist_normalises_and_limits(self):
        with tempfile.TemporaryDirectory() as d:
            write_idx(os.path.join(d, "train-images-idx3-ubyte.gz"), [i % 256 for i in range(3 * 28 * 28)], (3, 28, 28))
            write_idx(os.path.join(d, "train-labels-idx1-ubyte.gz"), [1, 2, 3], (3,))
            write_idx(os.path.join(d, "t10k-images-idx3-ubyte"), [7] * (28 * 28), (1, 28, 28))
            write_idx(os.path.join(d, "t10k-labels-idx1-ubyte"), [4], (1,))
            tx, ty, vx, vy = tm.load_mnist(d, 2)
            self.assertEqual(tuple(tx.shape), (2, 1, 28, 28))
            self.assertEqual(ty.tolist(), [1, 2])
            self.assertAlmostEqual(tx.mean().item(), 0.0, places=5)
            self.assertAlmostEqual(tx.std().item(), 1.0, places=5)
            self.assertEqual(tuple(vx.shape), (1, 1, 28, 28))
            self.assertEqual(vy.tolist(), [4])


class Compensation(unittest.TestCase):
    def test_identity_at_start(self):
        c = tm.Comp(3)
        x = torch.randn(4, 3, 5, 5)
        self.assertTrue(torch.equal(c(x), x))

    def test_adds_gamma_times_batch_mean_plus_beta(self):
        c = tm.Comp(2)
        with torch.no_grad():
            c.gamma.copy_(torch.tensor([2.0, -1.0]))
            c.beta.copy_(torch.tensor([0.5, 0.25]))
        x = torch.arange(16, dtype=torch.float32).reshape(2, 2, 2, 2)
        e = x.mean(dim=(0, 2, 3))
        want = x + (c.gamma * e + c.beta).detach().view(1, 2, 1, 1)
        self.assertTrue(torch.allclose(c(x), want))
        # The running mean moved by momentum 0.1 toward the batch mean.
        self.assertTrue(torch.allclose(c.running_mean, 0.1 * e))
        # Evaluation uses the running mean, not the batch's.
        c.eval()
        want = x + (c.gamma * c.running_mean + c.beta).detach().view(1, 2, 1, 1)
        self.assertTrue(torch.allclose(c(x), want))

    def test_fully_connected_channels(self):
        c = tm.Comp(3)
        with torch.no_grad():
            c.gamma.fill_(1.0)
        x = torch.randn(5, 3)
        self.assertTrue(torch.allclose(c(x), x + x.mean(dim=0)))


class Network(unittest.TestCase):
    def test_shapes_and_modes(self):
        cpu = torch.device("cpu")
        x = torch.randn(4, 1, 28, 28)
        for mode in ("fp32", "qat"):
            m = tm.build(mode, cpu, "qnnpack")
            self.assertEqual(tuple(m(x).shape), (4, 10))
            fq = [n for n, mod in m.named_modules() if isinstance(mod, torch.ao.quantization.FakeQuantize)]
            if mode == "fp32":
                self.assertEqual(fq, [])
            else:  # input, conv/fc weights and outputs are fake-quantized; comp and bn are not
                self.assertTrue(any(n.startswith("conv.weight_fake_quant") for n in fq), fq)
                self.assertTrue(any(n.startswith("fc2.") for n in fq), fq)
                self.assertFalse(any(n.startswith(("comp", "bn")) for n in fq), fq)
        with self.assertRaisesRegex(ValueError, "unknown mode"):
            tm.build("int4", cpu, "qnnpack")

    def test_training_lowers_the_loss(self):
        torch.manual_seed(0)
        cpu = torch.device("cpu")
        x = torch.randn(128, 1, 28, 28)
        y = (x.mean(dim=(1, 2, 3)) > 0).long()
        m = tm.build("fp32", cpu, "qnnpack")
        opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
        first, _, n = tm.train_epoch(m, opt, x, y, 32, 1.0, 1e-4, 1, 0, cpu)
        self.assertEqual(n, 128)
        for ep in range(1, 4):
            last, _, _ = tm.train_epoch(m, opt, x, y, 32, 1.0, 1e-4, 1, ep, cpu)
        self.assertLess(last, first)


if __name__ == "__main__":
    unittest.main()
