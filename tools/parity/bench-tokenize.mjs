// bench-tokenize.mjs times @huggingface/tokenizers encoding a corpus, the
// node half of the tokenizer throughput benchmark (go run ./bench/tokenize
// runs it and prints both halves).
//
// Usage:
//
//	node bench-tokenize.mjs --tokenizer DIR --in corpus.jsonl [--runs N]
//
// The corpus has the input format of tokenize.mjs. Each run encodes every
// text once with add_special_tokens true, on one thread. A first run,
// reported as first_s, warms the JIT and the BPE cache. Each later run
// is timed in wall-clock time and in process CPU time (user plus system,
// all threads, so garbage collection counts). The result is one JSON
// object on stdout, with times in seconds.

import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { loadTokenizer, textOf } from "./tokenize.mjs";

function parseArgs(argv) {
  const args = { tokenizer: null, in: null, runs: "5" };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, "");
    if (!(name in args) || i + 1 >= argv.length) {
      throw new Error(
        `invalid argument ${JSON.stringify(argv[i])}: ` +
          "usage: node bench-tokenize.mjs --tokenizer DIR --in FILE [--runs N]",
      );
    }
    args[name] = argv[++i];
  }
  if (args.tokenizer === null || args.in === null) {
    throw new Error("missing --tokenizer DIR or --in FILE");
  }
  const runs = Number(args.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    throw new Error(`invalid --runs ${JSON.stringify(args.runs)}: expected a positive integer`);
  }
  return { tokenizer: args.tokenizer, in: args.in, runs };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function encodeAll(tokenizer, texts) {
  let tokens = 0;
  for (const text of texts) {
    tokens += tokenizer.encode(text).ids.length;
  }
  return tokens;
}

function main() {
  const args = parseArgs(process.argv.slice(2));

  const texts = readFileSync(args.in, "utf8")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line, i) => textOf(JSON.parse(line), i + 1));
  const bytes = texts.reduce((sum, text) => sum + Buffer.byteLength(text, "utf8"), 0);

  const loadStart = performance.now();
  const tokenizer = loadTokenizer(args.tokenizer);
  const loadSeconds = (performance.now() - loadStart) / 1000;

  const firstStart = performance.now();
  const tokens = encodeAll(tokenizer, texts);
  const firstSeconds = (performance.now() - firstStart) / 1000;
  const runs = [];
  const cpu = [];
  for (let i = 0; i < args.runs; i++) {
    const start = performance.now();
    const startCPU = process.cpuUsage();
    encodeAll(tokenizer, texts);
    const usedCPU = process.cpuUsage(startCPU);
    runs.push((performance.now() - start) / 1000);
    cpu.push((usedCPU.user + usedCPU.system) / 1e6);
  }

  const seconds = median(runs);
  const result = {
    node: process.version,
    texts: texts.length,
    bytes,
    tokens,
    load_s: loadSeconds,
    first_s: firstSeconds,
    runs_s: runs,
    median_s: seconds,
    cpu_s: cpu,
    median_cpu_s: median(cpu),
    texts_per_s: texts.length / seconds,
    mb_per_s: bytes / 1e6 / seconds,
  };
  process.stdout.write(JSON.stringify(result) + "\n");
}

try {
  main();
} catch (err) {
  process.stderr.write(`bench-tokenize.mjs: ${err.message}\n`);
  process.exit(1);
}
