"""The offline regime's speed levers, measured side by side in one process (interleaved, shuffled rounds).

    .venv/bin/python tools/regime_levers.py [--rounds 5] [--steps 40]

1. **Seeds as one batched model.** Five LeNet-5 seeds trained one SGD step each on their own batch of 32: one after
   another (the engine), as one ``torch.func.vmap`` over stacked parameters, and as one grouped-convolution model.
   Ratio > 1: the batched form is faster.
2. **Evaluation schedule.** Ten training epochs of the offline Fashion-MNIST recipe (2,000 images, batch 32) with the
   whole 10,000-image test split evaluated after every epoch, against after the tenth only (``eval_every=10``).
3. **Runs shared by spec.** Not a timing: how many offline runs the chapters ask for and how many distinct specs
   (records) that is, from the profiles' own matrices.

Prints medians of the rounds and their ratios; CPU timings on a shared machine swing, the ratios much less.
"""

from __future__ import annotations

import argparse
import copy
import random
import statistics
import time

import torch
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state, vmap

from zmixlib.engine import models
from zmixlib.engine.metrics import soft_cross_entropy
from zmixlib.engine.train import Trainer
from zmixlib.protocol import recipes

N_SEEDS, BATCH = 5, 32


def _sgd(params):
    return torch.optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)


def _batches(steps):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(steps, N_SEEDS, BATCH, 1, 28, 28, generator=g)
    y = torch.softmax(torch.randn(steps, N_SEEDS, BATCH, 10, generator=g), -1)
    return x, y


def sequential(steps):
    nets = [models.build("lenet5", num_classes=10, in_channels=1, input_size=(28, 28)) for _ in range(N_SEEDS)]
    opts = [_sgd(n.parameters()) for n in nets]
    x, y = _batches(steps)

    def run():
        for s in range(steps):
            for i in range(N_SEEDS):
                loss = soft_cross_entropy(nets[i](x[s, i]), y[s, i])
                opts[i].zero_grad()
                loss.backward()
                opts[i].step()

    return run


def vmapped(steps):
    nets = [models.build("lenet5", num_classes=10, in_channels=1, input_size=(28, 28)) for _ in range(N_SEEDS)]
    params, buffers = stack_module_state(nets)
    params = {k: v.detach().requires_grad_() for k, v in params.items()}
    base = copy.deepcopy(nets[0]).to("meta")
    opt = _sgd(list(params.values()))
    x, y = _batches(steps)

    def f(p, b, xb):
        return functional_call(base, (p, b), (xb,))

    def run():
        for s in range(steps):
            logits = vmap(f)(params, buffers, x[s])
            loss = sum(soft_cross_entropy(logits[i], y[s, i]) for i in range(N_SEEDS))
            opt.zero_grad()
            loss.backward()
            opt.step()

    return run


def grouped(steps):
    def p(*shape):
        return (torch.randn(*shape) * 0.1).requires_grad_()

    n = N_SEEDS
    w1, b1, w2, b2 = p(n * 6, 1, 5, 5), p(n * 6), p(n * 16, 6, 5, 5), p(n * 16)
    l1, c1, l2, c2, l3, c3 = p(n, 400, 120), p(n, 1, 120), p(n, 120, 84), p(n, 1, 84), p(n, 84, 10), p(n, 1, 10)
    opt = _sgd([w1, b1, w2, b2, l1, c1, l2, c2, l3, c3])
    x, y = _batches(steps)

    def forward(xs):  # (n, B, 1, 28, 28) -> (n, B, 10): n LeNet-5s as one model
        h = xs.transpose(0, 1).reshape(BATCH, n, 28, 28)
        h = F.max_pool2d(F.relu(F.conv2d(h, w1, b1, padding=2, groups=n)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, w2, b2, groups=n)), 2).reshape(BATCH, n, 400).transpose(0, 1)
        h = F.relu(torch.baddbmm(c1, h, l1))
        h = F.relu(torch.baddbmm(c2, h, l2))
        return torch.baddbmm(c3, h, l3)

    def run():
        for s in range(steps):
            logits = forward(x[s])
            loss = sum(soft_cross_entropy(logits[i], y[s, i]) for i in range(n))
            opt.zero_grad()
            loss.backward()
            opt.step()

    return run


def epochs_with_eval(every: int | None):
    spec = recipes.spec_for("Fashion-MNIST", profile="offline", method="erm", device="cpu", epochs=10, eval_every=every)
    trainer = Trainer(spec, verbose=False)

    def run():
        for epoch in range(10):
            trainer.train_epoch(epoch)
            if every is None or (epoch + 1) % every == 0:
                trainer.evaluate()

    return run


def shared_runs() -> tuple[int, int]:
    """(runs the offline chapters ask for, distinct specs among them) — from the sections' offline matrices as the
    chapters' profiles call them (04 with 5 seeds, the rest with their defaults)."""
    asked = []
    asked += recipes.resolve("natural", "offline", seeds=[0, 1, 2, 3, 4])
    asked += recipes.resolve("cutmix", "offline", seeds=[0, 1, 2, 3, 4])
    asked += recipes.resolve("ablation", "offline")
    asked += recipes.resolve("sensitivity", "offline", gammas=[1.8, 2.8, 3.8, 4.8])
    asked += recipes.resolve("natural", "offline", methods=["mixup"], datasets=["Fashion-MNIST"])
    asked += recipes.resolve("peers", "offline", gammas=[2.8])
    return len(asked), len({s.run_id for s in asked})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    for name in ("rounds", "steps", "threads"):
        if getattr(args, name) < 1:
            ap.error(f"--{name} must be a positive integer, got {getattr(args, name)}")
    torch.set_num_threads(args.threads)
    cases = {
        "5 seeds, one after another": sequential(args.steps),
        "5 seeds, torch.func.vmap": vmapped(args.steps),
        "5 seeds, grouped convolutions": grouped(args.steps),
        "10 epochs, test split every epoch": epochs_with_eval(None),
        "10 epochs, test split after the tenth": epochs_with_eval(10),
    }
    times: dict[str, list[float]] = {k: [] for k in cases}
    rng = random.Random(0)
    for _ in range(args.rounds):
        order = list(cases)
        rng.shuffle(order)
        for name in order:
            t = time.perf_counter()
            cases[name]()
            times[name].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{args.rounds} shuffled rounds, {args.threads} thread(s); medians:")
    for k, v in med.items():
        print(f"  {k:40s} {v:8.3f} s")
    base = med["5 seeds, one after another"]
    print(f"batched seeds, vmap: {base / med['5 seeds, torch.func.vmap']:.2f}x the sequential speed")
    print(f"batched seeds, grouped convolutions: {base / med['5 seeds, grouped convolutions']:.2f}x")
    every = med["10 epochs, test split every epoch"] / med["10 epochs, test split after the tenth"]
    print(f"evaluating every tenth epoch instead of every epoch: {every:.2f}x faster")
    asked, distinct = shared_runs()
    print(
        f"runs shared by spec: the chapters ask for {asked} runs, {distinct} distinct ({asked / distinct:.2f}x fewer trained)"
    )


if __name__ == "__main__":
    main()
