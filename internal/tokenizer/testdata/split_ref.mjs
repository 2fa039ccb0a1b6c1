// split_ref.mjs prints how the pre-tokenizers of @huggingface/tokenizers
// (the version pinned in tools/parity) split each text: the Split
// pre-tokenizer with each pattern given, and the ByteLevel pre-tokenizer
// with use_regex (mapped back from the byte-level alphabet to text).
//
// Usage: node split_ref.mjs INPUT.json, where INPUT.json is
// {"patterns": [...], "texts": [...]}. Output: {"split": [[[pieces]...]...],
// "byteLevel": [[pieces]...]}.
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const scriptDir = dirname(fileURLToPath(import.meta.url));
const pkg = join(scriptDir, "../../../tools/parity/node_modules/@huggingface/tokenizers/dist/tokenizers.mjs");
const { SplitPreTokenizer, ByteLevelPreTokenizer } = await import(pkg);

const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
const split = input.patterns.map((p) => {
  const pre = new SplitPreTokenizer({ type: "Split", pattern: { Regex: p }, behavior: "Isolated", invert: false });
  return input.texts.map((t) => pre.pre_tokenize_text(t));
});

const byteLevel = new ByteLevelPreTokenizer({ type: "ByteLevel", add_prefix_space: false, use_regex: true });
const unicodeToByte = new Map();
for (const [b, c] of Object.entries(byteLevel.byte_encoder)) unicodeToByte.set(c, Number(b));
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const byteLevelPieces = input.texts.map((t) =>
  byteLevel.pre_tokenize_text(t).map((p) => decoder.decode(Uint8Array.from([...p].map((c) => unicodeToByte.get(c))))),
);
console.log(JSON.stringify({ split, byteLevel: byteLevelPieces }));
