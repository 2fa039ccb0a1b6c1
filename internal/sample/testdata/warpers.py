"""Write warpers.json: the tokens and probabilities that Hugging Face
transformers' repetition penalty, temperature, top-k, top-p and min-p leave
on random logits, computed with torch in float32 as transformers does.

Each step below is written from the documented rule of the transformers
class named in its comment (transformers 4.41 and later apply them in this
order). Run with Debian's python3-torch:

    /usr/bin/python3 internal/sample/testdata/warpers.py
"""

import json
import os

import numpy as np
import torch

VOCAB = 512
NEG_INF = float("-inf")


def pipeline(logits, history, temperature, top_k, top_p, min_p, penalty):
    scores = torch.tensor(logits, dtype=torch.float32).unsqueeze(0)

    # RepetitionPenaltyLogitsProcessor: each token present in the sequence
    # has a negative logit multiplied and any other logit divided.
    if penalty != 1.0 and history:
        ids = torch.tensor([history], dtype=torch.long)
        seen = torch.gather(scores, 1, ids)
        seen = torch.where(seen < 0, seen * penalty, seen / penalty)
        scores = scores.scatter(1, ids, seen)

    # TemperatureLogitsWarper.
    if temperature != 1.0:
        scores = scores / temperature

    # TopKLogitsWarper: remove scores below the k-th highest.
    if top_k > 0:
        kth = torch.topk(scores, min(top_k, VOCAB))[0][..., -1, None]
        scores = scores.masked_fill(scores < kth, NEG_INF)

    # TopPLogitsWarper: in ascending order, remove tokens whose cumulative
    # probability is at most 1 - top_p, keeping the last one. Transformers
    # calls torch.sort, whose order among equal scores is unspecified past
    # 16 values. This sort puts the higher id first among equal scores, the
    # order ipo uses, by sorting the reversed scores stably.
    if top_p < 1.0:
        ascending, order = torch.sort(scores.flip(-1), descending=False, stable=True)
        order = VOCAB - 1 - order
        cumulative = ascending.softmax(dim=-1).cumsum(dim=-1)
        remove = cumulative <= (1 - top_p)
        remove[..., -1:] = False
        remove = remove.scatter(1, order, remove)
        scores = scores.masked_fill(remove, NEG_INF)

    # MinPLogitsWarper: remove tokens with probability below min_p times
    # the highest probability.
    if min_p > 0.0:
        probs = torch.softmax(scores, dim=-1)
        threshold = min_p * probs.max(dim=-1, keepdim=True).values
        scores = scores.masked_fill(probs < threshold, NEG_INF)

    probs = torch.softmax(scores, dim=-1)[0]
    kept = torch.isfinite(scores[0]).nonzero().flatten().tolist()
    return kept, [short(float(probs[i])) for i in kept]


def short(x):
    """Return x rounded to float32 precision, so the JSON stays small."""
    return float(repr(np.float32(x)))


def main():
    rng = np.random.default_rng(20240601)
    vectors = []
    for scale in [0.5, 1.0, 2.0, 3.0, 5.0, 8.0]:
        logits = (rng.standard_normal(VOCAB) * scale).astype(np.float32)
        # A few exact ties near the top.
        top = np.argsort(-logits)[:6]
        logits[top[3]] = logits[top[2]]
        vectors.append(logits)

    configs = [
        # temperature, top_k, top_p, min_p, repetition_penalty
        (1.0, 0, 1.0, 0.0, 1.0),
        (0.7, 0, 0.9, 0.0, 1.0),
        (1.3, 0, 0.5, 0.0, 1.0),
        (1.0, 50, 1.0, 0.0, 1.0),
        (0.6, 20, 0.95, 0.0, 1.0),
        (1.0, 0, 1.0, 0.05, 1.0),
        (0.8, 0, 1.0, 0.2, 1.0),
        (0.7, 40, 0.8, 0.05, 1.0),
        (1.0, 0, 0.9, 0.0, 1.3),
        (0.9, 10, 0.7, 0.1, 0.8),
    ]

    cases = []
    for v, logits in enumerate(vectors):
        history = rng.choice(VOCAB, size=30, replace=True).tolist()
        # The top token is in the history, so the penalty applies to it.
        history.append(int(np.argmax(logits)))
        for temperature, top_k, top_p, min_p, penalty in configs:
            kept, probs = pipeline(logits, history, temperature, top_k, top_p, min_p, penalty)
            cases.append({
                "vector": v,
                "history": history,
                "temperature": temperature,
                "top_k": top_k,
                "top_p": top_p,
                "min_p": min_p,
                "repetition_penalty": penalty,
                "kept": kept,
                "probs": probs,
            })

    out = {
        "torch": torch.__version__,
        "vectors": [[short(x) for x in vec] for vec in vectors],
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "warpers.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
