#!/usr/bin/python3
"""Times a plain-torch Llama prefill with the shapes of bench/forward.

A random-weight model with the Go benchmark's shapes (SmolLM2-135M, in
float32 or bfloat16) runs a batch of equal-length sequences. It follows
the eager style of Hugging Face transformers on torch 1.13: batched
projections, matmul attention with a causal mask, a SwiGLU MLP, and logits
at the last position only. It prints the median tokens per wall-clock
second and per CPU second of the process.

    /usr/bin/python3 bench/forward/torch_prefill.py --threads 2 --runs 5

Debian's torch calls the libblas.so.3 that the system's alternatives
select for float32 matrix products. Where that is the reference BLAS,
point LD_LIBRARY_PATH at an OpenBLAS libblas.so.3 to measure a tuned one.
"""

import argparse
import math
import statistics
import time

import torch

HIDDEN, INTERMEDIATE, HEADS, KV_HEADS, HEAD_DIM, VOCAB = 576, 1536, 9, 3, 64, 49152


def make_model(layers, dtype):
    gen = torch.Generator().manual_seed(1)

    def linear(out_dim, in_dim):
        bound = 1 / math.sqrt(in_dim)
        return ((torch.rand(out_dim, in_dim, generator=gen) * 2 - 1) * bound).to(dtype)

    def norm(n):
        return (1 + 0.1 * torch.randn(n, generator=gen)).to(dtype)

    model = {"embed": linear(VOCAB, HIDDEN), "norm": norm(HIDDEN), "layers": []}
    for _ in range(layers):
        model["layers"].append(
            {
                "attn_norm": norm(HIDDEN),
                "q": linear(HEADS * HEAD_DIM, HIDDEN),
                "k": linear(KV_HEADS * HEAD_DIM, HIDDEN),
                "v": linear(KV_HEADS * HEAD_DIM, HIDDEN),
                "o": linear(HIDDEN, HEADS * HEAD_DIM),
                "mlp_norm": norm(HIDDEN),
                "gate": linear(INTERMEDIATE, HIDDEN),
                "up": linear(INTERMEDIATE, HIDDEN),
                "down": linear(HIDDEN, INTERMEDIATE),
            }
        )
    return model


def rms_norm(x, weight, eps=1e-5):
    x32 = x.float()
    x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)
    return weight * x32.to(x.dtype)


def rotate(x, cos, sin):
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return x * cos + torch.cat([-x2, x1], dim=-1) * sin


def prefill(model, tokens):
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
        q = (h @ layer["q"].T).view(batch, length, HEADS, HEAD_DIM).transpose(1, 2)
        k = (h @ layer["k"].T).view(batch, length, KV_HEADS, HEAD_DIM).transpose(1, 2)
        v = (h @ layer["v"].T).view(batch, length, KV_HEADS, HEAD_DIM).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        k = k.repeat_interleave(HEADS // KV_HEADS, dim=1)
        v = v.repeat_interleave(HEADS // KV_HEADS, dim=1)
        scores = (q @ k.transpose(2, 3)) / math.sqrt(HEAD_DIM) + mask
        probs = torch.softmax(scores.float(), dim=-1).to(dtype)
        context = (probs @ v).transpose(1, 2).reshape(batch, length, HEADS * HEAD_DIM)
        x = x + context @ layer["o"].T
        h = rms_norm(x, layer["mlp_norm"])
        x = x + (torch.nn.functional.silu(h @ layer["gate"].T) * (h @ layer["up"].T)) @ layer["down"].T
    last = rms_norm(x[:, -1], model["norm"])
    return last @ model["embed"].T


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--runs", type=int, default=5, help="timed runs; the median is printed")
    parser.add_argument("--batch", type=int, default=8, help="sequences per forward pass")
    parser.add_argument("--length", type=int, default=512, help="tokens per sequence")
    parser.add_argument("--layers", type=int, default=30, help="decoder layers")
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    model = make_model(args.layers, getattr(torch, args.dtype))
    tokens = torch.randint(0, VOCAB, (args.batch, args.length), generator=torch.Generator().manual_seed(2))
    count = args.batch * args.length
    rates, cpu_rates = [], []
    with torch.no_grad():
        prefill(model, tokens)
        for _ in range(args.runs):
            start, start_cpu = time.perf_counter(), time.process_time()
            prefill(model, tokens)
            rates.append(count / (time.perf_counter() - start))
            cpu_rates.append(count / (time.process_time() - start_cpu))
    print(
        f"torch {torch.__version__} {args.dtype} threads={args.threads}: "
        f"{statistics.median(rates):.0f} tokens/s, {statistics.median(cpu_rates):.0f} tokens/CPU-s"
    )


if __name__ == "__main__":
    main()
