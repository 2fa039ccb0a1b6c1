package tokenizer

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sharedCase is a text with the ids and the decoded text (skipping special
// tokens) that Hugging Face gives it.
type sharedCase struct {
	text    string
	ids     []int
	decoded string
}

// sharedCases were produced once by running @huggingface/tokenizers 0.2.0
// (testdata/npm_ids.mjs with --decode) on each shared tokenizer folder, with
// add_special_tokens true, and pasted here.
var sharedCases = map[string][]sharedCase{
	"qwen3": {
		{"Hello world", []int{9707, 1879}, "Hello world"},
		{"Hello, world! How's it going? I'M FINE.", []int{9707, 11, 1879, 0, 2585, 594, 432, 2087, 30, 358, 27603, 434, 3981, 13}, "Hello, world! How's it going? I'M FINE."},
		{"  leading and trailing   ", []int{220, 6388, 323, 27748, 262}, "  leading and trailing   "},
		{"numbers 1234567 and 3.14", []int{37378, 220, 16, 17, 18, 19, 20, 21, 22, 323, 220, 18, 13, 16, 19}, "numbers 1234567 and 3.14"},
		{"line1\nline2\r\n\r\nline3\n\n", []int{1056, 16, 198, 1056, 17, 871, 1056, 18, 271}, "line1\nline2\r\n\r\nline3\n\n"},
		{"\u00e9moji \U0001f600 and \u00fcn\u00efc\u00f6d\u00e9 \u03a9mega \u4e2d\u6587", []int{963, 6355, 7754, 90316, 323, 10489, 77, 37572, 66, 2956, 128505, 7851, 102, 42510, 72858, 16744}, "\u00e9moji \U0001f600 and \u00fcn\u00efc\u00f6d\u00e9 \u03a9mega \u4e2d\u6587"},
		{"<|im_start|>user\nIs this good?<|im_end|>\n", []int{151644, 872, 198, 3872, 419, 1661, 30, 151645, 198}, "user\nIs this good?\n"},
		{"<s>[INST] hi [/INST]</s>", []int{44047, 30768, 64462, 60, 15588, 64928, 64462, 30961, 82, 29}, "<s>[INST] hi [/INST]</s>"},
		{"def f(x):\n    return x**2  # comment\n", []int{750, 282, 2075, 982, 262, 470, 856, 334, 17, 220, 671, 3980, 198}, "def f(x):\n    return x**2  # comment\n"},
		{"e\u0301 vs \u00e9", []int{963, 6165, 3958}, "\u00e9 vs \u00e9"},
		{"tab\tand\u00a0nbsp", []int{6192, 52477, 4102, 5674}, "tab\tand\u00a0nbsp"},
		{"", []int{}, ""},
	},
	"llama2": {
		{"Hello world", []int{1, 22557, 1526}, "Hello world"},
		{"Hello, world! How's it going? I'M FINE.", []int{1, 22557, 28725, 1526, 28808, 1602, 28742, 28713, 378, 1404, 28804, 315, 28742, 28755, 401, 5472, 28723}, "Hello, world! How's it going? I'M FINE."},
		{"  leading and trailing   ", []int{1, 259, 5374, 304, 27166, 2287}, "  leading and trailing   "},
		{"numbers 1234567 and 3.14", []int{1, 5551, 28705, 28740, 28750, 28770, 28781, 28782, 28784, 28787, 304, 28705, 28770, 28723, 28740, 28781}, "numbers 1234567 and 3.14"},
		{"line1\nline2\r\n\r\nline3\n\n", []int{1, 1407, 28740, 13, 1081, 28750, 28801, 13, 28801, 13, 1081, 28770, 13, 13}, "line1\nline2\r\n\r\nline3\n\n"},
		{"\u00e9moji \U0001f600 and \u00fcn\u00efc\u00f6d\u00e9 \u03a9mega \u4e2d\u6587", []int{1, 1233, 5326, 3632, 28705, 30575, 304, 4675, 28711, 28920, 28717, 14697, 28797, 28705, 30146, 28719, 4770, 28705, 28991, 29019}, "\u00e9moji \U0001f600 and \u00fcn\u00efc\u00f6d\u00e9 \u03a9mega \u4e2d\u6587"},
		{"<|im_start|>user\nIs this good?<|im_end|>\n", []int{1, 523, 28766, 321, 28730, 2521, 28766, 28767, 1838, 13, 2301, 456, 1179, 28804, 28789, 28766, 321, 28730, 416, 28766, 28767, 13}, "<|im_start|>user\nIs this good?<|im_end|>\n"},
		{"<s>[INST] hi [/INST]</s>", []int{1, 1, 733, 16289, 28793, 12014, 733, 28748, 16289, 28793, 2}, "[INST] hi [/INST]"},
		{"def f(x):\n    return x**2  # comment\n", []int{1, 801, 285, 28732, 28744, 1329, 13, 2287, 604, 1318, 348, 28750, 28705, 422, 4517, 13}, "def f(x):\n    return x**2  # comment\n"},
		{"e\u0301 vs \u00e9", []int{1, 317, 28949, 7709, 1233}, "e\u0301 vs \u00e9"},
		{"tab\tand\u00a0nbsp", []int{1, 7683, 12, 391, 29000, 14089}, "tab\tand\u00a0nbsp"},
		{"", []int{1}, ""},
	},
	"smollm": {
		{"Hello world", []int{19556, 905}, "Hello world"},
		{"Hello, world! How's it going? I'M FINE.", []int{19556, 28, 905, 17, 1073, 506, 357, 2045, 47, 339, 23, 61, 426, 12770, 30}, "Hello, world! How's it going? I'M FINE."},
		{"  leading and trailing   ", []int{216, 2899, 284, 35079, 333}, "  leading and trailing   "},
		{"numbers 1234567 and 3.14", []int{28707, 216, 33, 34, 35, 36, 37, 38, 39, 284, 216, 35, 30, 33, 36}, "numbers 1234567 and 3.14"},
		{"line1\nline2\r\n\r\nline3\n\n", []int{1311, 33, 198, 1311, 34, 7209, 198, 1311, 35, 1116}, "line1\nline2\r\n\r\nline3\n\n"},
		{"\u00e9moji \U0001f600 and \u00fcn\u00efc\u00f6d\u00e9 \u03a9mega \u4e2d\u6587", []int{2756, 15771, 10381, 40303, 218, 284, 5549, 137, 94, 25972, 83, 7466, 84, 2756, 5664, 119, 93, 9005, 216, 28589, 29184}, "\u00e9moji \U0001f600 and \u00fcn\u00efc\u00f6d\u00e9 \u03a9mega \u4e2d\u6587"},
		{"<|im_start|>user\nIs this good?<|im_end|>\n", []int{1, 4093, 198, 4182, 451, 1123, 47, 2, 198}, "user\nIs this good?\n"},
		{"<s>[INST] hi [/INST]</s>", []int{44, 99, 46, 75, 39637, 77, 15876, 933, 31, 39637, 77, 9617, 99, 46}, "<s>[INST] hi [/INST]</s>"},
		{"def f(x):\n    return x**2  # comment\n", []int{1604, 275, 24, 104, 727, 472, 1003, 1792, 828, 34, 216, 907, 5189, 198}, "def f(x):\n    return x**2  # comment\n"},
		{"e\u0301 vs \u00e9", []int{85, 151, 219, 6375, 26411}, "e\u0301 vs \u00e9"},
		{"tab\tand\u00a0nbsp", []int{15999, 197, 397, 15442, 94, 32093}, "tab\tand\u00a0nbsp"},
		{"", []int{}, ""},
	},
	"stories260K": {
		{"Hello world", []int{1, 346, 306, 414, 263, 304, 341}, "Hello world"},
		{"Hello, world! How's it going? I'M FINE.", []int{1, 346, 306, 414, 432, 263, 304, 341, 443, 320, 327, 439, 419, 312, 298, 414, 299, 450, 359, 439, 446, 410, 453, 442, 458, 459, 426}, "Hello, world! How's it going? I'M FINE."},
		{"  leading and trailing   ", []int{1, 410, 410, 278, 411, 380, 299, 269, 259, 420, 412, 290, 299, 410, 410, 410}, "  leading and trailing   "},
		{"numbers 1234567 and 3.14", []int{1, 297, 425, 423, 430, 285, 419, 410, 475, 479, 472, 484, 480, 490, 491, 269, 410, 472, 426, 475, 484}, "numbers 1234567 and 3.14"},
		{"line1\nline2\r\n\r\nline3\n\n", []int{1, 278, 271, 411, 475, 13, 421, 271, 411, 479, 16, 13, 16, 13, 421, 271, 411, 472, 13, 13}, "line1\nline2\r\n\r\nline3\n\n"},
		{"\u00e9moji \U0001f600 and \u00fcn\u00efc\u00f6d\u00e9 \u03a9mega \u4e2d\u6587", []int{1, 410, 485, 423, 414, 449, 417, 410, 243, 162, 155, 131, 269, 410, 198, 191, 416, 198, 178, 429, 198, 185, 418, 485, 410, 209, 172, 423, 411, 428, 412, 410, 231, 187, 176, 233, 153, 138}, "\u00e9moji \U0001f600 and \u00fcn\u00efc\u00f6d\u00e9 \u03a9mega \u4e2d\u6587"},
		{"<|im_start|>user\nIs this good?<|im_end|>\n", []int{1, 410, 504, 506, 288, 98, 356, 295, 413, 506, 505, 425, 419, 285, 13, 442, 419, 308, 293, 298, 347, 418, 450, 504, 506, 288, 98, 367, 506, 505, 13}, "<|im_start|>user\nIs this good?<|im_end|>\n"},
		{"<s>[INST] hi [/INST]</s>", []int{1, 1, 410, 508, 442, 458, 437, 434, 509, 270, 417, 410, 508, 492, 442, 458, 437, 434, 509, 2}, "[INST] hi [/INST]"},
		{"def f(x):\n    return x**2  # comment\n", []int{1, 279, 411, 431, 272, 489, 444, 488, 467, 13, 410, 410, 410, 410, 276, 413, 425, 420, 416, 410, 444, 497, 497, 479, 410, 410, 38, 280, 287, 423, 377, 13}, "def f(x):\n    return x**2  # comment\n"},
		{"e\u0301 vs \u00e9", []int{1, 344, 207, 132, 410, 435, 419, 410, 485}, "e\u0301 vs \u00e9"},
		{"tab\tand\u00a0nbsp", []int{1, 259, 412, 430, 12, 412, 264, 498, 416, 430, 419, 427}, "tab\tand\u00a0nbsp"},
		{"", []int{1}, ""},
	},
}

func TestSharedTokenizersMatchNPM(t *testing.T) {
	for _, name := range []string{"qwen3", "llama2", "smollm", "stories260K"} {
		t.Run(name, func(t *testing.T) {
			tk, err := Load(sharedTokenizer(t, name))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			for _, c := range sharedCases[name] {
				got := tk.Encode(c.text, true)
				if diff := cmp.Diff(c.ids, got, cmpEmptyInts); diff != "" {
					t.Errorf("Encode(%q, true) (-want +got):\n%s", c.text, diff)
				}
				if dec := tk.Decode(c.ids, true); dec != c.decoded {
					t.Errorf("Decode(ids of %q, true) = %q, want %q", c.text, dec, c.decoded)
				}
			}
		})
	}
}

// cmpEmptyInts treats nil and empty int slices as equal.
var cmpEmptyInts = cmp.Comparer(func(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
})
