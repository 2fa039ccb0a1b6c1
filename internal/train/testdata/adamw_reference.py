"""Write adamw_reference.json: torch.optim.AdamW and clip_grad_norm_ traces.

Two float32 parameters get fixed gradients for five steps with a
changing learning rate, weight decay and gradient clipping. The file stores
the gradients fed in, the norm clip_grad_norm_ returned, and the
parameters and moments after each step. The Go tests in internal/train
replay the same gradients through AdamW and ClipGradNorm.

Run: /usr/bin/python3 adamw_reference.py  (torch 1.13, Debian python3-torch)
"""

import json

import torch

STEPS = 5
LRS = [1e-3, 5e-3, 2e-2, 1e-2, 3e-3]
MAX_NORM = 25.0


def main():
    torch.manual_seed(0)
    a = torch.nn.Parameter(torch.randn(3, 4))
    b = torch.nn.Parameter(torch.randn(5))
    init = {"a": a.detach().flatten().tolist(), "b": b.detach().tolist()}
    opt = torch.optim.AdamW([a, b], lr=LRS[0], betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1, foreach=False)

    steps = []
    for step in range(STEPS):
        # Gradients of a fixed quadratic-plus-sine loss, scaled so that some
        # steps are clipped and others are not.
        loss = ((a - 0.5) ** 2).sum() * (0.2 + step) + torch.sin(3 * b).sum() * (1 + 2 * step)
        opt.zero_grad()
        loss.backward()
        grads = {"a": a.grad.flatten().tolist(), "b": b.grad.tolist()}
        norm = torch.nn.utils.clip_grad_norm_([a, b], MAX_NORM)
        clipped = {"a": a.grad.flatten().tolist(), "b": b.grad.tolist()}
        for group in opt.param_groups:
            group["lr"] = LRS[step]
        opt.step()
        steps.append({
            "lr": LRS[step],
            "grads": grads,
            "norm": norm.item(),
            "clipped": clipped,
            "params": {"a": a.detach().flatten().tolist(), "b": b.detach().tolist()},
            "exp_avg": {"a": opt.state[a]["exp_avg"].flatten().tolist(), "b": opt.state[b]["exp_avg"].tolist()},
            "exp_avg_sq": {"a": opt.state[a]["exp_avg_sq"].flatten().tolist(), "b": opt.state[b]["exp_avg_sq"].tolist()},
        })

    out = {
        "torch": torch.__version__,
        "betas": [0.9, 0.999],
        "eps": 1e-8,
        "weight_decay": 0.1,
        "max_norm": MAX_NORM,
        "init": init,
        "steps": steps,
    }
    with open("adamw_reference.json", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
