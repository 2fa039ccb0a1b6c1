// Renders chat-template cases with Hugging Face's JavaScript renderer,
// @huggingface/jinja, the reference for the Go renderer in internal/jinja.
//
// Input (stdin or the file named by the first argument) is JSONL, one case a
// line: {"id": "...", "template": "...", "context": {...}}. Output (stdout) is
// JSONL in the same order: {"id": "...", "output": "..."} when the case
// renders, {"id": "...", "error": "..."} when parsing or rendering throws.
//
//   node tools/parity/render.mjs cases.jsonl > rendered.jsonl
import { readFileSync } from "node:fs";
import { Template } from "@huggingface/jinja";

const input = readFileSync(process.argv[2] ?? 0, "utf8");
const out = [];
let lineNumber = 0;
for (const line of input.split("\n")) {
	lineNumber++;
	if (line.trim() === "") {
		continue;
	}
	let item;
	try {
		item = JSON.parse(line);
	} catch (err) {
		process.stderr.write(`render.mjs: line ${lineNumber} is not valid JSON: ${err.message}\n`);
		process.exit(2);
	}
	try {
		const template = new Template(item.template);
		out.push(JSON.stringify({ id: item.id, output: template.render(item.context ?? {}) }));
	} catch (err) {
		out.push(JSON.stringify({ id: item.id, error: String(err && err.message ? err.message : err) }));
	}
}
process.stdout.write(out.length > 0 ? out.join("\n") + "\n" : "");
