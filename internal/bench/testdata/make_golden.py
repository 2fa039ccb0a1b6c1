"""Write golden roll-up numbers computed by the official tools' own code.

Usage: python3 make_golden.py REWARD_BENCH_CHECKOUT RM_BENCH_CHECKOUT

REWARD_BENCH_CHECKOUT is a checkout of github.com/allenai/reward-bench and
RM_BENCH_CHECKOUT one of github.com/THU-KEG/RM-Bench. The script draws a
seeded random score table with many ties, runs the official functions on it
(reward-bench's calculate_scores_per_section with EXAMPLE_COUNTS and
SUBSET_MAPPING; RM-Bench's compute_accuracy on rows with a domain field),
and writes rewardbench_golden.json and rmbench_golden.json next to itself.
Only numpy is needed: the functions are taken from the source files by name,
so the tools' heavy imports (torch, transformers, fastchat) are not loaded.
"""

import ast
import json
import os
import sys

import numpy as np


def load_functions(path, names, namespace):
    """Compile the named top-level functions of a Python file into namespace."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    wanted = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in names]
    found = {n.name for n in wanted}
    if found != set(names):
        sys.exit(f"{path}: functions not found: {sorted(set(names) - found)}")
    exec(compile(ast.Module(body=wanted, type_ignores=[]), path, "exec"), namespace)


def load_constants(path):
    """Evaluate the top-level dict constants of reward-bench's constants.py."""
    constants = {}
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            constants[node.targets[0].id] = ast.literal_eval(node.value)
    return constants


def rewardbench_golden(checkout, rng):
    constants = load_constants(os.path.join(checkout, "rewardbench", "constants.py"))
    counts, mapping = constants["EXAMPLE_COUNTS"], constants["SUBSET_MAPPING"]
    namespace = {}
    load_functions(os.path.join(checkout, "rewardbench", "utils.py"), ["calculate_scores_per_section"], namespace)

    pairs = []
    subsets = [s for section in mapping.values() for s in section]
    for subset in subsets:
        for _ in range(int(rng.integers(1, 12))):
            # Scores on a coarse grid, so that ties happen.
            chosen, rejected = rng.integers(0, 5, size=2) / 4
            pairs.append({"id": str(len(pairs)), "subset": subset, "chosen": float(chosen), "rejected": float(rejected)})

    # Per-subset accuracy as the official run scripts compute it.
    results = {}
    for subset in subsets:
        outcomes = [1 if p["chosen"] > p["rejected"] else 0 for p in pairs if p["subset"] == subset]
        results[subset] = sum(outcomes) / len(outcomes)
    sections = namespace["calculate_scores_per_section"](counts, mapping, results)
    return {
        "pairs": pairs,
        "subsets": results,
        "sections": sections,
        "score": sum(sections.values()) / len(sections),
    }


def rmbench_golden(checkout, rng):
    namespace = {"np": np, "List": list, "Dict": dict, "Any": object}
    load_functions(
        os.path.join(checkout, "scripts", "utils.py"),
        ["split_dataset_by_domain", "compute_accuracy"],
        namespace,
    )

    rows = []
    for domain in ["chat", "code", "math", "safety-refuse", "safety-response"]:
        for i in range(int(rng.integers(3, 15))):
            rows.append({
                "id": i,
                "domain": domain,
                "score_chosen": [float(x) for x in rng.integers(0, 4, size=3) / 3],
                "score_rejected": [float(x) for x in rng.integers(0, 4, size=3) / 3],
            })
    # compute_accuracy removes the domain field, so give it a copy.
    official = namespace["compute_accuracy"]([dict(r) for r in rows])
    return {"rows": rows, "results": {k: float(v) for k, v in official.items()}}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    rng = np.random.default_rng(20250216)
    here = os.path.dirname(os.path.abspath(__file__))
    for name, data in [
        ("rewardbench_golden.json", rewardbench_golden(sys.argv[1], rng)),
        ("rmbench_golden.json", rmbench_golden(sys.argv[2], rng)),
    ]:
        with open(os.path.join(here, name), "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
