#!/usr/bin/python3
"""Plain-torch reference for the LoRA gradients of the DPO sigmoid loss.

For each tiny model that reference.py wrote under testdata/models/, this
script draws a LoRA adapter on all seven linear layers of every decoder
layer (r 4, lora_alpha 8, A and B both random and non-zero) and writes it
as a PEFT adapter folder under testdata/grad/<name>/ (adapter_config.json
and adapter_model.safetensors in F32). It then computes, in float64 with
torch autograd:

- the summed completion-token log-probs of two chosen/rejected pairs,
- the mean DPO sigmoid loss with beta 0.1 against fixed reference
  log-probs,
- the gradient of that loss with respect to every lora_A and lora_B,

and writes the loss and log-probs to testdata/grad/<name>/golden.json and
the gradients, under the adapter's tensor names, to
testdata/grad/<name>/grads.safetensors (F32).

The forward pass reuses the equations of reference.py (RMSNorm, rotate-half
RoPE with float32 angles, grouped-query causal attention, SwiGLU) and adds
the LoRA term scaling * (x @ A.T) @ B.T to each adapted projection. LoRA
dropout is 0 because torch's random masks cannot be reproduced in Go.

Run it from the repository root after reference.py:

    /usr/bin/python3 internal/llama/testdata/grad_reference.py
"""

import json
import math
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reference  # noqa: E402  (the forward equations of the golden tests)

MODELS = ["llama_f32", "qwen2_bias_tied_f16", "qwen3_qknorm_bf16", "llama3_rope_tied_bf16"]
MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
RANK = 4
ALPHA = 8.0
BETA = 0.1

# Two preference pairs: (prompt length, chosen tokens, rejected tokens).
# Each sequence's log-prob sums the tokens after the prompt.
PAIRS = [
    (3, [1, 17, 5, 42, 8, 63, 2], [1, 17, 5, 30, 11, 2]),
    (4, [1, 9, 33, 4, 60, 21, 2, 14], [1, 9, 33, 4, 7]),
]
# Reference-model log-probs of chosen0, rejected0, chosen1, rejected1.
REFERENCE_LOGPS = [-18.25, -16.5, -21.0, -5.75]


def read_safetensors(path):
    """Returns the tensors of a safetensors file as float64."""
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        lo, hi = info["data_offsets"]
        raw = bytearray(data[lo:hi])
        if info["dtype"] == "BF16":
            t = torch.frombuffer(raw, dtype=torch.int16).view(torch.bfloat16)
        elif info["dtype"] == "F16":
            t = torch.frombuffer(raw, dtype=torch.float16)
        elif info["dtype"] == "F32":
            t = torch.frombuffer(raw, dtype=torch.float32)
        else:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        out[name] = t.to(torch.float64).reshape(info["shape"])
    return out


def module_path(layer, module):
    parent = "mlp" if module in ("gate_proj", "up_proj", "down_proj") else "self_attn"
    return f"model.layers.{layer}.{parent}.{module}"


def lora_shapes(cfg, module):
    """Returns (out, in) of a linear layer."""
    h, f = cfg["hidden_size"], cfg["intermediate_size"]
    d = reference.head_dim(cfg)
    q, kv = cfg["num_attention_heads"] * d, cfg["num_key_value_heads"] * d
    return {
        "q_proj": (q, h),
        "k_proj": (kv, h),
        "v_proj": (kv, h),
        "o_proj": (h, q),
        "gate_proj": (f, h),
        "up_proj": (f, h),
        "down_proj": (h, f),
    }[module]


def make_lora(cfg, gen):
    """Returns {tensor name: float32 tensor} with PEFT's names."""
    lora = {}
    for layer in range(cfg["num_hidden_layers"]):
        for module in MODULES:
            out, inp = lora_shapes(cfg, module)
            prefix = "base_model.model." + module_path(layer, module)
            lora[prefix + ".lora_A.weight"] = torch.randn(RANK, inp, generator=gen) / math.sqrt(inp)
            lora[prefix + ".lora_B.weight"] = torch.randn(out, RANK, generator=gen) * 0.2
    return lora


def linear(x, w, lora, name, scaling):
    y = reference.linear(x, w, name)
    a = lora["base_model.model." + name + ".lora_A.weight"]
    b = lora["base_model.model." + name + ".lora_B.weight"]
    return y + scaling * ((x @ a.T) @ b.T)


def forward(cfg, w, lora, tokens):
    """Returns float64 logits [T, vocab] for one sequence with the adapter."""
    eps = cfg["rms_norm_eps"]
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    d = reference.head_dim(cfg)
    scaling = ALPHA / RANK
    length = len(tokens)
    positions = torch.arange(length)
    inv = reference.inverse_frequencies(cfg)
    allowed = reference.attention_mask(cfg, length)

    x = w["model.embed_tokens.weight"][torch.tensor(tokens)]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        a = reference.rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = linear(a, w, lora, p + "self_attn.q_proj", scaling).view(length, nh, d).transpose(0, 1)
        k = linear(a, w, lora, p + "self_attn.k_proj", scaling).view(length, nkv, d).transpose(0, 1)
        v = linear(a, w, lora, p + "self_attn.v_proj", scaling).view(length, nkv, d).transpose(0, 1)
        if cfg["model_type"] == "qwen3":
            q = reference.rms_norm(q, w[p + "self_attn.q_norm.weight"], eps)
            k = reference.rms_norm(k, w[p + "self_attn.k_norm.weight"], eps)
        q = reference.apply_rope(q, positions, inv)
        k = reference.apply_rope(k, positions, inv)

        group = nh // nkv
        k = k.repeat_interleave(group, dim=0)
        v = v.repeat_interleave(group, dim=0)
        scores = (q @ k.transpose(1, 2)) / math.sqrt(d)
        scores = scores.masked_fill(~allowed, float("-inf"))
        probs = torch.softmax(scores, dim=-1)
        context = (probs @ v).transpose(0, 1).reshape(length, nh * d)
        x = x + linear(context, w, lora, p + "self_attn.o_proj", scaling)

        m = reference.rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = linear(m, w, lora, p + "mlp.gate_proj", scaling)
        up = linear(m, w, lora, p + "mlp.up_proj", scaling)
        x = x + linear(torch.nn.functional.silu(gate) * up, w, lora, p + "mlp.down_proj", scaling)

    x = reference.rms_norm(x, w["model.norm.weight"], eps)
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return x @ head.T


def sequence_logp(cfg, w, lora, tokens, prompt):
    logp = torch.log_softmax(forward(cfg, w, lora, tokens), dim=-1)
    return sum(logp[i - 1, tokens[i]] for i in range(prompt, len(tokens)))


def write_adapter(folder, cfg_name, lora):
    config = {
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "r": RANK,
        "lora_alpha": ALPHA,
        "lora_dropout": 0.0,
        "target_modules": MODULES,
        "bias": "none",
        "base_model_name_or_path": cfg_name,
        "init_lora_weights": True,
    }
    with open(os.path.join(folder, "adapter_config.json"), "w") as out:
        json.dump(config, out, indent=2, sort_keys=True)
        out.write("\n")
    reference.write_safetensors(os.path.join(folder, "adapter_model.safetensors"), lora, "F32")


def main():
    for index, name in enumerate(MODELS):
        model_dir = os.path.join(HERE, "models", name)
        with open(os.path.join(model_dir, "config.json")) as f:
            cfg = json.load(f)
        w = read_safetensors(os.path.join(model_dir, "model.safetensors"))
        gen = torch.Generator().manual_seed(2000 + index)
        lora32 = make_lora(cfg, gen)

        folder = os.path.join(HERE, "grad", name)
        os.makedirs(folder, exist_ok=True)
        write_adapter(folder, name, lora32)

        lora = {k: t.to(torch.float64).requires_grad_() for k, t in lora32.items()}
        logps = []
        for prompt, chosen, rejected in PAIRS:
            logps.append(sequence_logp(cfg, w, lora, chosen, prompt))
            logps.append(sequence_logp(cfg, w, lora, rejected, prompt))
        losses = []
        for i in range(len(PAIRS)):
            h = (logps[2 * i] - logps[2 * i + 1]) - (REFERENCE_LOGPS[2 * i] - REFERENCE_LOGPS[2 * i + 1])
            losses.append(-torch.nn.functional.logsigmoid(BETA * h))
        loss = sum(losses) / len(losses)
        loss.backward()

        grads = {k: t.grad.to(torch.float32) for k, t in lora.items()}
        reference.write_safetensors(os.path.join(folder, "grads.safetensors"), grads, "F32")
        golden = {
            "beta": BETA,
            "pairs": [{"prompt_length": p, "chosen": c, "rejected": r} for p, c, r in PAIRS],
            "reference_logps": REFERENCE_LOGPS,
            "policy_logps": [float(f"{v.item():.12g}") for v in logps],
            "loss": float(f"{loss.item():.12g}"),
        }
        with open(os.path.join(folder, "golden.json"), "w") as out:
            json.dump(golden, out, indent=2)
            out.write("\n")
        print(f"wrote {name}: loss {loss.item():.6f}")


if __name__ == "__main__":
    main()
