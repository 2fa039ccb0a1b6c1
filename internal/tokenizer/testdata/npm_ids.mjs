// npm_ids.mjs prints the ids that @huggingface/tokenizers (the version
// pinned in tools/parity) gives each text, for the expected values of the
// tokenizer tests.
//
// Usage: node npm_ids.mjs TOKENIZER_DIR TEXTS.json [--no-special] [--decode]
// TEXTS.json contains a JSON array of strings. The output is one JSON array of
// id arrays (or, with --decode, of [ids, decoded, decodedSkippingSpecial]).
import { readFileSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const scriptDir = dirname(fileURLToPath(import.meta.url));
const pkg = join(scriptDir, "../../../tools/parity/node_modules/@huggingface/tokenizers/dist/tokenizers.mjs");
const { Tokenizer } = await import(pkg);

const [dir, textsPath, ...flags] = process.argv.slice(2);
const tokenizerJSON = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
const configPath = join(dir, "tokenizer_config.json");
const config = existsSync(configPath) ? JSON.parse(readFileSync(configPath, "utf8")) : {};
const tok = new Tokenizer(tokenizerJSON, config);

const texts = JSON.parse(readFileSync(textsPath, "utf8"));
const addSpecial = !flags.includes("--no-special");
const out = texts.map((text) => {
  const ids = tok.encode(text, { add_special_tokens: addSpecial }).ids;
  if (!flags.includes("--decode")) return ids;
  if (ids.length === 0) return [ids, "", ""];
  return [ids, tok.decode(ids), tok.decode(ids, { skip_special_tokens: true })];
});
console.log(JSON.stringify(out));
