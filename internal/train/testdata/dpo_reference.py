"""Write dpo_reference.json: DPO losses, gradients and metrics from torch.

Each loss is written out in torch from its definition in TRL's
DPOTrainer.dpo_loss, so TRL does not need to be installed. The script
evaluates it in float64 with autograd on a fixed batch of sequence log-probs,
for every loss type and several beta and label-smoothing values. The Go tests in
internal/train compare against this file.

Run: /usr/bin/python3 dpo_reference.py  (torch 1.13, Debian python3-torch)
"""

import json

import torch
import torch.nn.functional as F

# Sequence log-probs of six pairs: policy chosen, policy rejected,
# reference chosen, reference rejected. They cover positive and negative
# margins, a zero margin, and large values where a naive log(sigmoid())
# would underflow.
PAIRS = [
    [-12.5, -15.0, -13.0, -14.0],
    [-30.25, -22.0, -29.0, -23.5],
    [-8.0, -8.0, -8.0, -8.0],
    [-5.5, -40.0, -6.0, -9.0],
    [-250.0, -20.0, -40.0, -300.0],
    [-101.0, -99.5, -100.0, -100.0],
]

CASES = [
    ("sigmoid", 0.1, 0.0),
    ("sigmoid", 0.5, 0.0),
    ("sigmoid", 0.1, 0.2),
    ("robust", 0.1, 0.1),
    ("robust", 1.0, 0.3),
    ("hinge", 0.1, 0.0),
    ("hinge", 2.0, 0.0),
    ("ipo", 0.1, 0.0),
    ("ipo", 0.5, 0.0),
]


def losses(loss_type, beta, eps, pc, pr, rc, rr):
    logits = (pc - pr) - (rc - rr)
    if loss_type == "sigmoid":
        return -F.logsigmoid(beta * logits) * (1 - eps) - F.logsigmoid(-beta * logits) * eps
    if loss_type == "robust":
        return (-F.logsigmoid(beta * logits) * (1 - eps) + F.logsigmoid(-beta * logits) * eps) / (1 - 2 * eps)
    if loss_type == "hinge":
        return torch.relu(1 - beta * logits)
    if loss_type == "ipo":
        return (logits - 1 / (2 * beta)) ** 2
    raise ValueError(loss_type)


def case(loss_type, beta, eps):
    data = torch.tensor(PAIRS, dtype=torch.float64)
    pc = data[:, 0].clone().requires_grad_(True)
    pr = data[:, 1].clone().requires_grad_(True)
    rc, rr = data[:, 2], data[:, 3]

    per_pair = losses(loss_type, beta, eps, pc, pr, rc, rr)
    loss = per_pair.mean()
    loss.backward()

    chosen = beta * (pc - rc).detach()
    rejected = beta * (pr - rr).detach()
    return {
        "loss_type": loss_type,
        "beta": beta,
        "label_smoothing": eps,
        "losses": per_pair.detach().tolist(),
        "loss": loss.item(),
        "grad_chosen": pc.grad.tolist(),
        "grad_rejected": pr.grad.tolist(),
        "metrics": {
            "rewards/chosen": chosen.mean().item(),
            "rewards/rejected": rejected.mean().item(),
            "rewards/accuracies": (chosen > rejected).double().mean().item(),
            "rewards/margins": (chosen - rejected).mean().item(),
            "logps/chosen": pc.detach().mean().item(),
            "logps/rejected": pr.detach().mean().item(),
        },
    }


def main():
    out = {
        "torch": torch.__version__,
        "pairs": PAIRS,
        "cases": [case(*c) for c in CASES],
    }
    with open("dpo_reference.json", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
