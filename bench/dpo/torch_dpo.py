#!/usr/bin/python3
"""Times one LoRA DPO step in plain torch with the shapes of bench/dpo.

A random-weight Llama with SmolLM2-135M's shapes has a rank-16 LoRA
adapter on every linear layer. It runs what one step of ipo's loop runs
for a micro-batch of one pair. That is the forward and backward pass of
the chosen and rejected sequences, with log-probs of the completion tokens
only through the tied output head, then the sigmoid DPO loss against fixed
reference log-probs, gradient clipping and torch.optim.AdamW. The base weights are
frozen, as in PEFT. It prints the median tokens per wall-clock second and
per CPU second.

    /usr/bin/python3 bench/dpo/torch_dpo.py --threads 2 --runs 3
"""

import argparse
import math
import statistics
import time

import torch
import torch.nn.functional as F

HIDDEN, INTERMEDIATE, HEADS, KV_HEADS, HEAD_DIM, VOCAB = 576, 1536, 9, 3, 64, 49152
SHAPES = {
    "q": (HEADS * HEAD_DIM, HIDDEN),
    "k": (KV_HEADS * HEAD_DIM, HIDDEN),
    "v": (KV_HEADS * HEAD_DIM, HIDDEN),
    "o": (HIDDEN, HEADS * HEAD_DIM),
    "gate": (INTERMEDIATE, HIDDEN),
    "up": (INTERMEDIATE, HIDDEN),
    "down": (HIDDEN, INTERMEDIATE),
}


def build(layers, rank, dtype):
    gen = torch.Generator().manual_seed(1)

    def uniform(rows, cols):
        bound = 1 / math.sqrt(cols)
        return ((torch.rand(rows, cols, generator=gen) * 2 - 1) * bound).to(dtype)

    base = {"embed": uniform(VOCAB, HIDDEN), "norm": torch.ones(HIDDEN, dtype=dtype), "layers": []}
    lora = []
    for _ in range(layers):
        layer = {"attn_norm": torch.ones(HIDDEN, dtype=dtype), "mlp_norm": torch.ones(HIDDEN, dtype=dtype)}
        for name, (out_dim, in_dim) in SHAPES.items():
            layer[name] = uniform(out_dim, in_dim)
            a = uniform(rank, in_dim).requires_grad_()
            b = torch.full((out_dim, rank), 0.001, dtype=dtype).requires_grad_()
            layer[name + "_lora"] = (a, b)
            lora += [a, b]
        base["layers"].append(layer)
    return base, lora


def linear(h, layer, name, scaling):
    a, b = layer[name + "_lora"]
    return h @ layer[name].T + ((h @ a.T) @ b.T) * scaling


def rms_norm(x, weight, eps=1e-5):
    x32 = x.float()
    return weight * (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype)


def rotate(x, cos, sin):
    half = x.shape[-1] // 2
    return x * cos + torch.cat([-x[..., half:], x[..., :half]], dim=-1) * sin


def sequence_logps(model, tokens, prompt, scaling):
    batch, length = tokens.shape
    dtype = model["embed"].dtype
    inv = 1.0 / (100000.0 ** (torch.arange(0, HEAD_DIM, 2, dtype=torch.float32) / HEAD_DIM))
    angles = torch.arange(length, dtype=torch.float32)[:, None] * inv[None, :]
    angles = torch.cat([angles, angles], dim=-1)
    cos, sin = angles.cos().to(dtype), angles.sin().to(dtype)
    mask = torch.full((length, length), float("-inf")).triu(1).to(dtype)

    x = model["embed"][tokens]
    for layer in model["layers"]:
        h = rms_norm(x, layer["attn_norm"])
        q = linear(h, layer, "q", scaling).view(batch, length, HEADS, HEAD_DIM).transpose(1, 2)
        k = linear(h, layer, "k", scaling).view(batch, length, KV_HEADS, HEAD_DIM).transpose(1, 2)
        v = linear(h, layer, "v", scaling).view(batch, length, KV_HEADS, HEAD_DIM).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        k = k.repeat_interleave(HEADS // KV_HEADS, dim=1)
        v = v.repeat_interleave(HEADS // KV_HEADS, dim=1)
        probs = torch.softmax(((q @ k.transpose(2, 3)) / math.sqrt(HEAD_DIM) + mask).float(), dim=-1).to(dtype)
        context = (probs @ v).transpose(1, 2).reshape(batch, length, HEADS * HEAD_DIM)
        x = x + linear(context, layer, "o", scaling)
        h = rms_norm(x, layer["mlp_norm"])
        x = x + linear(F.silu(linear(h, layer, "gate", scaling)) * linear(h, layer, "up", scaling), layer, "down", scaling)
    # Row i predicts token i+1: keep the rows that predict completion tokens.
    h = rms_norm(x[:, prompt - 1 : -1], model["norm"])
    logps = torch.log_softmax((h @ model["embed"].T).float(), dim=-1)
    return logps.gather(-1, tokens[:, prompt:, None]).squeeze(-1).sum(-1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--runs", type=int, default=3, help="timed steps; the median is printed")
    parser.add_argument("--length", type=int, default=512, help="tokens per sequence")
    parser.add_argument("--prompt", type=int, default=128, help="prompt tokens per sequence")
    parser.add_argument("--layers", type=int, default=30, help="decoder layers")
    parser.add_argument("--r", type=int, default=16, help="LoRA rank")
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    model, lora = build(args.layers, args.r, getattr(torch, args.dtype))
    opt = torch.optim.AdamW(lora, lr=1e-6, weight_decay=0.0)
    tokens = torch.randint(0, VOCAB, (2, args.length), generator=torch.Generator().manual_seed(2))
    scaling = 2.0  # alpha = 2r

    rates, cpu_rates = [], []
    for run in range(args.runs + 1):
        start, start_cpu = time.perf_counter(), time.process_time()
        opt.zero_grad()
        logps = sequence_logps(model, tokens, args.prompt, scaling)
        ref = logps.detach() + torch.tensor([1.0, -1.0])
        loss = -F.logsigmoid(0.1 * ((logps[0] - ref[0]) - (logps[1] - ref[1])))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(lora, 1.0)
        opt.step()
        if run == 0:
            continue  # warm-up
        rates.append(2 * args.length / (time.perf_counter() - start))
        cpu_rates.append(2 * args.length / (time.process_time() - start_cpu))
    print(
        f"torch {torch.__version__} {args.dtype} threads={args.threads}: "
        f"{statistics.median(rates):.0f} tokens/s, {statistics.median(cpu_rates):.0f} tokens/CPU-s"
    )


if __name__ == "__main__":
    main()
