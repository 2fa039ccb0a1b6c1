#!/usr/bin/python3
"""Independent plain-torch reference of the Llama-family decoder.

Writes one tiny random model folder per configuration under
testdata/models/<name>/ (config.json and a hand-written model.safetensors)
and golden values in testdata/golden/<name>.json: the logits at every
position of a few token sequences of different lengths, and the log-probs
of each token given its prefix.

The forward pass below is written from the equations, not from any model
library: RMSNorm, rotate-half RoPE (with linear and llama3 frequency
scaling), grouped-query attention with a causal mask and an optional
sliding window, a SwiGLU MLP, optional q/k/v/o biases, optional per-head
q/k RMSNorm and a tied or untied output head. Everything is computed in
float32, on weights rounded to the stored dtype first.

Run it from the repository root with Debian's torch:

    /usr/bin/python3 internal/llama/testdata/reference.py
"""

import json
import math
import os
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))

# Token sequences of different lengths. The first is longer than the
# sliding window of the mistral configuration.
SEQUENCES = [
    [1, 17, 5, 42, 8, 63, 2, 30, 11],
    [1, 9, 33, 4, 60, 21],
    [3, 50, 7],
]

# A long sequence crosses the 64-row attention blocks of the Go code. Only
# its log-probs and the logits at LONG_POSITIONS are stored, to keep the
# golden files small.
LONG_LENGTH = 150
LONG_POSITIONS = [0, 63, 64, 100, 149]

BASE = {
    "hidden_size": 32,
    "intermediate_size": 48,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 64,
    "max_position_embeddings": 256,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "hidden_act": "silu",
    "bos_token_id": 1,
    "eos_token_id": 2,
}

# name -> (extra config fields, stored dtype)
CONFIGS = {
    "llama_f32": ({"model_type": "llama", "tie_word_embeddings": False}, "F32"),
    "llama3_rope_tied_bf16": (
        {
            "model_type": "llama",
            "tie_word_embeddings": True,
            "rope_theta": 500000.0,
            "rope_scaling": {
                "rope_type": "llama3",
                "factor": 8.0,
                "low_freq_factor": 1.0,
                "high_freq_factor": 4.0,
                "original_max_position_embeddings": 8,
            },
        },
        "BF16",
    ),
    "llama_linear_rope_bf16": (
        {
            "model_type": "llama",
            "tie_word_embeddings": False,
            "rope_scaling": {"type": "linear", "factor": 2.0},
        },
        "BF16",
    ),
    "llama_headdim_bias_f16": (
        {
            "model_type": "llama",
            "tie_word_embeddings": False,
            "head_dim": 16,
            "num_key_value_heads": 1,
            "attention_bias": True,
            "mlp_bias": True,
        },
        "F16",
    ),
    "mistral_window_f16": (
        {
            "model_type": "mistral",
            "tie_word_embeddings": False,
            "num_key_value_heads": 4,
            "sliding_window": 4,
        },
        "F16",
    ),
    "qwen2_bias_tied_f16": (
        {
            "model_type": "qwen2",
            "tie_word_embeddings": True,
            "rope_theta": 1000000.0,
            "rms_norm_eps": 1e-6,
            "use_sliding_window": False,
            "sliding_window": 32,
        },
        "F16",
    ),
    "qwen3_qknorm_bf16": (
        {
            "model_type": "qwen3",
            "tie_word_embeddings": False,
            "head_dim": 16,
            "rope_theta": 1000000.0,
            "rms_norm_eps": 1e-6,
            "attention_bias": False,
        },
        "BF16",
    ),
}

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def head_dim(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def qkv_bias(cfg):
    if cfg["model_type"] == "qwen2":
        return True
    return bool(cfg.get("attention_bias", False))


def o_bias(cfg):
    if cfg["model_type"] == "qwen2":
        return False
    return bool(cfg.get("attention_bias", False))


def make_weights(cfg, gen):
    """Returns the checkpoint tensors, in float32, keyed by Hugging Face names."""
    h = cfg["hidden_size"]
    f = cfg["intermediate_size"]
    v = cfg["vocab_size"]
    nh = cfg["num_attention_heads"]
    nkv = cfg["num_key_value_heads"]
    d = head_dim(cfg)

    def rand(*shape, scale=None):
        if scale is None:
            scale = 1.0 / math.sqrt(shape[-1])
        return torch.randn(*shape, generator=gen) * scale

    def norm_weight(n):
        return 1.0 + 0.1 * torch.randn(n, generator=gen)

    w = {"model.embed_tokens.weight": rand(v, h, scale=1.0)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = norm_weight(h)
        w[p + "self_attn.q_proj.weight"] = rand(nh * d, h)
        w[p + "self_attn.k_proj.weight"] = rand(nkv * d, h)
        w[p + "self_attn.v_proj.weight"] = rand(nkv * d, h)
        w[p + "self_attn.o_proj.weight"] = rand(h, nh * d)
        if qkv_bias(cfg):
            w[p + "self_attn.q_proj.bias"] = rand(nh * d, scale=0.1)
            w[p + "self_attn.k_proj.bias"] = rand(nkv * d, scale=0.1)
            w[p + "self_attn.v_proj.bias"] = rand(nkv * d, scale=0.1)
        if o_bias(cfg):
            w[p + "self_attn.o_proj.bias"] = rand(h, scale=0.1)
        if cfg["model_type"] == "qwen3":
            w[p + "self_attn.q_norm.weight"] = norm_weight(d)
            w[p + "self_attn.k_norm.weight"] = norm_weight(d)
        w[p + "post_attention_layernorm.weight"] = norm_weight(h)
        w[p + "mlp.gate_proj.weight"] = rand(f, h)
        w[p + "mlp.up_proj.weight"] = rand(f, h)
        w[p + "mlp.down_proj.weight"] = rand(h, f)
        if cfg.get("mlp_bias"):
            w[p + "mlp.gate_proj.bias"] = rand(f, scale=0.1)
            w[p + "mlp.up_proj.bias"] = rand(f, scale=0.1)
            w[p + "mlp.down_proj.bias"] = rand(h, scale=0.1)
    w["model.norm.weight"] = norm_weight(h)
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = rand(v, h)
    return w


def write_safetensors(path, tensors, dtype):
    """Writes the format by hand: u64 LE header length, JSON header, raw data."""
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].to(DTYPES[dtype]).contiguous()
        if dtype == "BF16":
            raw = t.view(torch.int16).numpy().tobytes()
        else:
            raw = t.numpy().tobytes()
        header[name] = {
            "dtype": dtype,
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(head)))
        out.write(head)
        for raw in blobs:
            out.write(raw)


def rms_norm(x, weight, eps):
    variance = x.pow(2).mean(-1, keepdim=True)
    return x * torch.rsqrt(variance + eps) * weight


def inverse_frequencies(cfg):
    """Returns the float32 RoPE inverse frequencies, computed in float64."""
    return inverse_frequencies64(cfg).to(torch.float32)


def inverse_frequencies64(cfg):
    d = head_dim(cfg)
    theta = cfg["rope_theta"]
    exponents = torch.arange(0, d, 2, dtype=torch.float64) / d
    inv = 1.0 / (theta**exponents)
    scaling = cfg.get("rope_scaling")
    if not scaling:
        return inv
    kind = scaling.get("rope_type", scaling.get("type"))
    if kind == "linear":
        return inv / scaling["factor"]
    if kind != "llama3":
        raise ValueError(f"reference has no rope type {kind}")

    # llama3: keep short wavelengths, divide long ones by the factor and
    # interpolate linearly (in 1/wavelength) between the two cut-offs.
    factor = scaling["factor"]
    low = scaling["low_freq_factor"]
    high = scaling["high_freq_factor"]
    old = scaling["original_max_position_embeddings"]
    out = []
    for f in inv.tolist():
        wavelength = 2 * math.pi / f
        if wavelength < old / high:
            out.append(f)
        elif wavelength > old / low:
            out.append(f / factor)
        else:
            smooth = (old / wavelength - low) / (high - low)
            out.append((1 - smooth) * f / factor + smooth * f)
    return torch.tensor(out, dtype=torch.float64)


def apply_rope(x, positions, inv):
    """x: [heads, T, d]. Rotates pairs (i, i + d/2) by angle position * inv[i].

    The angles are float32 products, as Hugging Face transformers computes
    them, so long positions carry the same rounding.
    """
    angles = positions.to(torch.float32)[:, None] * inv[None, :]
    cos = torch.cos(angles)
    sin = torch.sin(angles)
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


def attention_mask(cfg, length):
    """Returns a boolean [T, T] mask of allowed (query, key) pairs."""
    q = torch.arange(length)[:, None]
    k = torch.arange(length)[None, :]
    allowed = k <= q
    window = cfg.get("sliding_window")
    if cfg["model_type"] == "mistral" and window:
        allowed &= (q - k) < window
    return allowed


def linear(x, w, name):
    y = x @ w[name + ".weight"].T
    bias = w.get(name + ".bias")
    if bias is not None:
        y = y + bias
    return y


def forward(cfg, w, tokens):
    """Returns float32 logits [T, vocab] for one unpadded sequence."""
    eps = cfg["rms_norm_eps"]
    nh = cfg["num_attention_heads"]
    nkv = cfg["num_key_value_heads"]
    d = head_dim(cfg)
    length = len(tokens)
    positions = torch.arange(length)
    inv = inverse_frequencies(cfg)
    allowed = attention_mask(cfg, length)

    x = w["model.embed_tokens.weight"][torch.tensor(tokens)]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        a = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = linear(a, w, p + "self_attn.q_proj").view(length, nh, d).transpose(0, 1)
        k = linear(a, w, p + "self_attn.k_proj").view(length, nkv, d).transpose(0, 1)
        v = linear(a, w, p + "self_attn.v_proj").view(length, nkv, d).transpose(0, 1)
        if cfg["model_type"] == "qwen3":
            q = rms_norm(q, w[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, w[p + "self_attn.k_norm.weight"], eps)
        q = apply_rope(q, positions, inv)
        k = apply_rope(k, positions, inv)

        group = nh // nkv
        k = k.repeat_interleave(group, dim=0)
        v = v.repeat_interleave(group, dim=0)
        scores = (q @ k.transpose(1, 2)) / math.sqrt(d)
        scores = scores.masked_fill(~allowed, float("-inf"))
        probs = torch.softmax(scores, dim=-1)
        context = (probs @ v).transpose(0, 1).reshape(length, nh * d)
        x = x + linear(context, w, p + "self_attn.o_proj")

        m = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = linear(m, w, p + "mlp.gate_proj")
        up = linear(m, w, p + "mlp.up_proj")
        x = x + linear(torch.nn.functional.silu(gate) * up, w, p + "mlp.down_proj")

    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return x @ head.T


def main():
    torch.manual_seed(0)
    models = os.path.join(HERE, "models")
    golden = os.path.join(HERE, "golden")
    os.makedirs(golden, exist_ok=True)
    for index, (name, (extra, dtype)) in enumerate(sorted(CONFIGS.items())):
        cfg = dict(BASE)
        cfg.update(extra)
        cfg["torch_dtype"] = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype]
        gen = torch.Generator().manual_seed(1000 + index)
        weights = make_weights(cfg, gen)

        # Round to the stored dtype, then compute in float32 as the Go code does.
        weights = {k: t.to(DTYPES[dtype]).to(torch.float32) for k, t in weights.items()}

        folder = os.path.join(models, name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "config.json"), "w") as out:
            json.dump(cfg, out, indent=2, sort_keys=True)
            out.write("\n")
        write_safetensors(os.path.join(folder, "model.safetensors"), weights, dtype)

        long_tokens = torch.randint(0, cfg["vocab_size"], (LONG_LENGTH,), generator=gen).tolist()
        runs = [(t, list(range(len(t)))) for t in SEQUENCES] + [(long_tokens, LONG_POSITIONS)]
        cases = []
        with torch.no_grad():
            for tokens, positions in runs:
                logits = forward(cfg, weights, tokens)
                logp = torch.log_softmax(logits.to(torch.float64), dim=-1)
                token_logprobs = [logp[i - 1, tokens[i]].item() for i in range(1, len(tokens))]
                cases.append(
                    {
                        "tokens": tokens,
                        "positions": positions,
                        "logits": [[float(f"{v:.8g}") for v in logits[p].tolist()] for p in positions],
                        "logprobs": [float(f"{v:.10g}") for v in token_logprobs],
                    }
                )
        with open(os.path.join(golden, name + ".json"), "w") as out:
            json.dump({"config": name, "dtype": dtype, "sequences": cases}, out)
            out.write("\n")
        print(f"wrote {name} ({dtype})")


if __name__ == "__main__":
    main()
