// tokenize.mjs encodes a corpus with Hugging Face's JavaScript tokenizer
// (@huggingface/tokenizers 0.2.0) and writes the reference ids and decodes
// that the Go parity test compares against.
//
// Usage:
//
//	node tokenize.mjs --tokenizer DIR [--in corpus.jsonl] [--out ids.jsonl]
//
// DIR contains tokenizer.json and, when present, tokenizer_config.json. The
// corpus is JSONL with one object per line:
//
//	{"text": "..."}         a text, encoded as given
//	{"base64": "..."}       raw bytes, decoded as UTF-8 with TextDecoder
//	                        (invalid sequences become U+FFFD) before encoding
//	"extra": true           also encode without special tokens and decode
//	                        without skipping special tokens
//
// Each input line yields one output line, in order:
//
//	ids          encode(text) with add_special_tokens true (the default)
//	text         the decoded string that was encoded, for "base64" lines only
//	roundtrip    decode(ids, {skip_special_tokens: true}) === text
//	decoded      that decode, present only when roundtrip is false
//	ids_plain    encode(text, {add_special_tokens: false}), when "extra"
//	decoded_all  decode(ids, {skip_special_tokens: false}), when "extra"
//	error        set instead of the fields above when this text failed
//
// NOTE: the package runs as published, so its known differences from the
// Rust tokenizers crate that Python uses stay in the reference. Its
// ByteFallback decoder drops a byte order mark that starts a byte run and
// writes one U+FFFD per ill-formed subpart (Rust keeps the mark and writes
// one per byte).
//
// decode() of this package throws on an empty id list, so an empty list
// decodes to "" here, which is what the Python tokenizers return.

import { createReadStream, createWriteStream, existsSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Tokenizer } from "@huggingface/tokenizers";

function parseArgs(argv) {
  const args = { tokenizer: null, in: null, out: null };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, "");
    if (!(name in args) || i + 1 >= argv.length) {
      throw new Error(
        `invalid argument ${JSON.stringify(argv[i])}: ` +
          "usage: node tokenize.mjs --tokenizer DIR [--in FILE] [--out FILE]",
      );
    }
    args[name] = argv[++i];
  }
  if (args.tokenizer === null) {
    throw new Error("missing --tokenizer DIR: the folder that contains tokenizer.json");
  }
  return args;
}

// loadTokenizer reads DIR/tokenizer.json and DIR/tokenizer_config.json (an
// empty config when the file is absent) into a Tokenizer.
export function loadTokenizer(dir) {
  const jsonPath = join(dir, "tokenizer.json");
  const configPath = join(dir, "tokenizer_config.json");
  const tokenizerJSON = JSON.parse(readFileSync(jsonPath, "utf8"));
  const config = existsSync(configPath)
    ? JSON.parse(readFileSync(configPath, "utf8"))
    : {};
  return new Tokenizer(tokenizerJSON, config);
}

// textOf returns the string a corpus line stands for. Raw bytes go through
// the WHATWG UTF-8 decoder, which replaces each maximal invalid subpart with
// one U+FFFD.
const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
export function textOf(line, lineNumber) {
  if (typeof line.text === "string") {
    return line.text;
  }
  if (typeof line.base64 === "string") {
    return utf8.decode(Buffer.from(line.base64, "base64"));
  }
  throw new Error(`corpus line ${lineNumber}: missing string field "text" or "base64"`);
}

function decode(tokenizer, ids, skipSpecial) {
  if (ids.length === 0) {
    return "";
  }
  return tokenizer.decode(ids, { skip_special_tokens: skipSpecial });
}

// checkIDs throws when encode() mapped a token to no id, which happens when
// a token is missing from the vocabulary and the model has no unk_token;
// JSON would turn such an id into null.
function checkIDs(ids, text) {
  const bad = ids.findIndex((id) => !Number.isInteger(id));
  if (bad >= 0) {
    throw new Error(`token ${bad} of ${JSON.stringify(text.slice(0, 80))} has no id`);
  }
  return ids;
}

function referenceFor(tokenizer, line, lineNumber) {
  const text = textOf(line, lineNumber);
  const ids = checkIDs(tokenizer.encode(text).ids, text);
  const decoded = decode(tokenizer, ids, true);
  const out = { ids, roundtrip: decoded === text };
  if (typeof line.base64 === "string") {
    out.text = text;
  }
  if (!out.roundtrip) {
    out.decoded = decoded;
  }
  if (line.extra === true) {
    out.ids_plain = checkIDs(tokenizer.encode(text, { add_special_tokens: false }).ids, text);
    out.decoded_all = decode(tokenizer, ids, false);
  }
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const tokenizer = loadTokenizer(args.tokenizer);
  const input = args.in === null ? process.stdin : createReadStream(args.in);
  const output = args.out === null ? process.stdout : createWriteStream(args.out);

  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNumber = 0;
  let chunk = [];
  for await (const raw of lines) {
    lineNumber++;
    if (raw.length === 0) {
      continue;
    }
    let line;
    try {
      line = JSON.parse(raw);
    } catch (err) {
      throw new Error(`corpus line ${lineNumber}: invalid JSON: ${err.message}`);
    }
    let reference;
    try {
      reference = referenceFor(tokenizer, line, lineNumber);
    } catch (err) {
      // One failing text must not hide the results of the others.
      reference = { error: `corpus line ${lineNumber}: ${err.message}` };
    }
    chunk.push(JSON.stringify(reference));
    if (chunk.length >= 256) {
      if (!output.write(chunk.join("\n") + "\n")) {
        await new Promise((resolve) => output.once("drain", resolve));
      }
      chunk = [];
    }
  }
  if (chunk.length > 0) {
    output.write(chunk.join("\n") + "\n");
  }
  if (output !== process.stdout) {
    await new Promise((resolve, reject) => output.end((err) => (err ? reject(err) : resolve())));
  }
}

// The helpers above are shared with bench-tokenize.mjs, so main runs only
// when this file is the program node started.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err) => {
    process.stderr.write(`tokenize.mjs: ${err.message}\n`);
    process.exit(1);
  });
}
