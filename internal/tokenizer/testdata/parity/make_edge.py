#!/usr/bin/env python3
"""Write edge.jsonl, the edge-case part of the tokenizer parity corpus.

Run from this folder: python3 make_edge.py > edge.jsonl

Each line is {"text": ...} or, for byte strings that are not valid UTF-8,
{"base64": ...}; every line sets "extra" so the reference also returns ids
without special tokens and a decode that keeps special tokens.
"""

import base64
import json
import random
import sys


def texts():
    # Empty input and whitespace: runs of spaces, tabs, newlines and the
    # Unicode spaces that regex \s and the normalizers treat differently.
    yield ""
    for n in (1, 2, 3, 4, 7, 8, 16, 33):
        yield " " * n
    yield "  leading spaces"
    yield "trailing spaces   "
    yield "  both  "
    yield "a  b   c    d     e"
    yield "\t"
    yield "\t\t\tindented with tabs"
    yield "col1\tcol2\t\tcol3"
    yield " \t \t mixed"
    yield "\n"
    yield "\n\n\n"
    yield "line one\nline two\n\nline four\n"
    yield "windows\r\nline\r\nends\r\n"
    yield "old mac\rline\rends"
    yield "spaces before newline   \n   and after"
    yield "\n \n\t\n  \n"
    yield "vertical\x0btab and form\x0cfeed"
    yield "no\u00a0break\u00a0space"
    yield "ideographic\u3000space"
    yield "zero\u200bwidth\u200cnon\u200djoiner"
    yield "en\u2002em\u2003thin\u2009hair\u200a"
    yield "line\u2028separator\u2029paragraph"
    yield "\ufeffbyte order mark"
    yield "\u0085next line"
    yield "a\u0085b c\u0085 d"
    yield "word\ufeff word \ufeff"
    yield " \u00a0 \u2003 x"
    yield " " * 1000 + "after a thousand spaces"
    yield "\n" * 500 + "after newlines"
    yield "trailing whitespace run \t \n \t "
    yield "x \n\n y  \n z"

    # Emoji: single code points, skin tones, ZWJ families, flags, keycaps.
    yield "😀"
    yield "Hello 👋 world 🌍!"
    yield "👍🏽👍🏿"
    yield "👨‍👩‍👧‍👦 family"
    yield "🇫🇷🇯🇵🇺🇸"
    yield "1️⃣ 2️⃣ #️⃣"
    yield "❤️ vs ❤"
    yield "🤖" * 20
    yield "emoji🙂inside🙃words"

    # CJK and other scripts.
    yield "你好，世界！"
    yield "我爱自然语言处理。今天天气很好。"
    yield "こんにちは世界、カタカナとひらがな"
    yield "ｶﾀｶﾅ halfwidth"
    yield "안녕하세요 세계"
    yield "ＦＵＬＬＷＩＤＴＨ ｌｅｔｔｅｒｓ １２３"
    yield "中文English混合text"
    yield "Привет, мир! Ёлка"
    yield "Γειά σου κόσμε ς σ Σ"
    yield "مرحبا بالعالم"
    yield "שָׁלוֹם עוֹלָם"
    yield "नमस्ते दुनिया"
    yield "สวัสดีชาวโลก"
    yield "ሰላም ዓለም"
    yield "İstanbul ıi I İ"
    yield "Straße STRASSE ß ẞ"

    # Combining marks, composed and decomposed forms (NFC changes these).
    yield "e\u0301"
    yield "\u00e9"
    yield "cafe\u0301 vs caf\u00e9"
    yield "a\u0300\u0301\u0302\u0303\u0304"
    yield "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319a\u0335\u0356lgo"
    yield "\u1100\u1161\u11a8"
    yield "\u0041\u030a \u212b \u00c5"
    yield "\u0301 leading combining mark"
    yield "ﬁ ﬂ ﬃ ligatures"
    yield "Ⅻ ① ² ½ ℃"
    yield "𝐀𝐁𝐂 𝓧𝓨𝓩 mathematical"

    # Long words without spaces.
    yield "a" * 5000
    yield "antidisestablishmentarianism" * 200
    rng = random.Random(7)
    yield "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(3000))
    yield "https://example.com/" + "/".join("segment%d" % i for i in range(300)) + "?q=1&r=2"
    yield "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") for _ in range(2000)) + "=="
    yield "Pneumonoultramicroscopicsilicovolcanoconiosis"
    yield "é" * 1000
    yield "漢" * 2000
    yield "😀" * 500
    yield "-" * 1000
    yield "." * 257

    # Digit runs and numbers.
    yield "1234567890"
    yield "9" * 5000
    yield "12 345 6789 x1y22z333"
    yield "0" * 100
    yield "".join(str(i) for i in range(1000))
    yield "3.14159265358979323846"
    yield "1,000,000 and 1.000.000 and 1 000 000"
    yield "abc123def456"
    yield "v1.2.3-rc.4"
    yield "-42 +17 1e-9 0x1F 0b1010"
    yield "٠١٢٣٤٥٦٧٨٩"
    yield "１２３４５"
    yield "2024-01-15T10:30:00Z"
    yield "$1,234.56 €99 ¥1000"

    # Special-token look-alikes and the added tokens themselves.
    yield "<s>"
    yield "</s>"
    yield "<unk>"
    yield "<s>Hello</s>"
    yield "text<s>text</s>text"
    yield " <s> spaced </s> "
    yield "< s> <s > <<s>> <s"
    yield "<|endoftext|>"
    yield "before<|endoftext|>after"
    yield "<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n"
    yield "<|im_start|><|im_start|><|im_end|>"
    yield "<|im_start| <|im_start <im_start|> |im_start|>"
    yield "<|IM_START|> <|EndOfText|>"
    yield "<think>\nreasoning\n</think>\n\nanswer"
    yield "<tool_call>{}</tool_call>"
    yield "<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>"
    yield "<|vision_start|><|image_pad|><|vision_end|>"
    yield "[PAD] [pad] [PAD][PAD]"
    yield "<filename>main.py<file_sep><jupyter_code>"
    yield "<repo_name> <reponame> <gh_stars>"
    yield "  <|endoftext|>  "

    # Contractions and the pre-tokenizer's apostrophe rules.
    yield "I'm you're he's they've we'll she'd don't"
    yield "I'M YOU'RE HE'S THEY'VE WE'LL SHE'D DON'T"
    yield "'s 't 're 've 'm 'll 'd"
    yield "I'Ll We'Re It'S"
    yield "ǅemal ǈ ǋ titlecase"
    yield "rock'n'roll o'clock"
    yield "curly ’s and ‘quoted’"

    # Symbols used by the tokenizers themselves, controls and odd code points.
    yield "▁ ▁▁ already▁has▁meta"
    yield "Ġ Ċ ĠĠ byte level letters"
    yield "<0x41> <0xFF>"
    yield "nul\x00byte"
    yield "".join(chr(c) for c in range(1, 32))
    yield "del\x7f"
    yield "\ue000\uf8ff private use"
    yield "\ufffe\uffff noncharacters"
    yield "\U0010ffff last code point"
    yield "\ufffd replacement character"
    yield "\u202eright-to-left override\u202c"
    yield "x" + "\u0300" * 50

    # Code, markup and punctuation runs.
    yield "def f(x):\n    return x**2  # square\n"
    yield "if (a && b || !c) { x += 1; }"
    yield "<div class=\"a\">&nbsp;&amp;</div>"
    yield "**bold** _italic_ `code` ~~strike~~"
    yield "!!!??? ... ,,, ;;; :::"
    yield "((([[[{{{}}}]]])))"
    yield "{\"key\": [1, 2, {\"nested\": null}]}"
    yield "    four-space indented code\n        eight"


def raw_bytes():
    # Byte strings that are not valid UTF-8; each decoder must see the same
    # replaced text.
    yield b"\xff"
    yield b"abc\xffdef"
    yield b"\xc3\x28"
    yield b"\xe2\x82"
    yield b"\xe2\x82 end"
    yield b"\xc0\xaf overlong"
    yield b"\xed\xa0\x80 surrogate"
    yield b"\xf4\x90\x80\x80 above max"
    yield b"\x80\x80\x80 continuation"
    yield b"valid \xe4\xbd\xa0 then \xe4\xbd"
    yield b"truncated emoji \xf0\x9f\x98"
    yield b"\xfe\xfe\xff\xff"
    yield b"mixed \xf0\x9f\x98\x80 \xf0\x9f \xc3\xa9 \xc3"


def main():
    out = sys.stdout
    for text in texts():
        out.write(json.dumps({"text": text, "extra": True}, ensure_ascii=True) + "\n")
    for b in raw_bytes():
        try:
            b.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raise SystemExit("raw_bytes entry %r is valid UTF-8; move it to texts" % b)
        line = {"base64": base64.b64encode(b).decode("ascii"), "extra": True}
        out.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
