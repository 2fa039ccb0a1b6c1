// Package jinja renders Hugging Face chat templates: the Jinja dialect of
// the chat_template field in tokenizer_config.json.
//
// The lexer, parser and evaluator follow the behaviour of Hugging Face's
// JavaScript renderer, @huggingface/jinja 0.5.13, which is the reference the
// parity tests compare against byte for byte. Where that renderer differs
// from Python's Jinja2 (booleans print as "true", floats in tojson print as
// JavaScript numbers, str.strip ignores its argument, tests take no
// arguments), this package follows the JavaScript renderer. Where the
// reference throws, Render returns an error that names the template line.
//
// Templates are parsed with trim_blocks and lstrip_blocks on, as
// transformers and @huggingface/jinja set them:
//
//	t, err := jinja.Parse(source)
//	ctx, err := jinja.ParseJSON([]byte(`{"messages": [{"role": "user", "content": "Hi"}]}`))
//	out, err := t.Render(ctx.Object())
//
// Values keep the key order of their source. ParseJSON orders object keys
// as JavaScript does after JSON.parse (integer-like keys first, ascending,
// then insertion order), so tojson output matches the reference.
//
// Known differences from the reference: ** with a fractional exponent uses
// Go's math.Pow and can differ in the last bit; indexing into the middle
// of a surrogate pair yields U+FFFD where JavaScript keeps a lone
// surrogate; tojson(sort_keys=true) orders keys by the root Unicode
// collation where node uses ICU in its default locale.
package jinja
