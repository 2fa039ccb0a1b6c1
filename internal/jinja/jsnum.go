package jinja

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// formatNumber prints f as JavaScript's Number.prototype.toString does:
// the shortest digits that round-trip, in fixed notation for exponents
// from -7 to 20 and in exponential notation ("1e+21") outside.
func formatNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	sign := ""
	if f < 0 {
		sign = "-"
		f = -f
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expText, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(expText)
	n := exp + 1 // position of the decimal point after the first digit
	k := len(digits)

	switch {
	case k <= n && n <= 21:
		return sign + digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return sign + digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return sign + "0." + strings.Repeat("0", -n) + digits
	}
	expSign := "+"
	if n-1 < 0 {
		expSign = "-"
	}
	exponent := strconv.Itoa(abs(n - 1))
	if k == 1 {
		return sign + digits + "e" + expSign + exponent
	}
	return sign + digits[:1] + "." + digits[1:] + "e" + expSign + exponent
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// parseIntPrefix mirrors JavaScript's parseInt(s, 10): leading whitespace,
// an optional sign and the longest run of digits. ok is false when no
// digit follows.
func parseIntPrefix(s string) (float64, bool) {
	s = trimLeftSpace(s)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	end := 0
	for end < len(s) && isDigit(s[end]) {
		end++
	}
	if end == 0 {
		return 0, false
	}
	v, _ := strconv.ParseFloat(s[:end], 64)
	if neg {
		v = -v
	}
	return v, true
}

// parseFloatPrefix mirrors JavaScript's parseFloat: the longest prefix
// that is a decimal literal or Infinity.
func parseFloatPrefix(s string) (float64, bool) {
	s = trimLeftSpace(s)
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if strings.HasPrefix(s[i:], "Infinity") {
		if s[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intDigits := i - start

	fracDigits := 0
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		fracDigits = j - i - 1
		if intDigits > 0 || fracDigits > 0 {
			i = j
		}
	}
	if intDigits == 0 && fracDigits == 0 {
		return 0, false
	}

	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k > j {
			i = k
		}
	}
	v, err := strconv.ParseFloat(s[:i], 64)
	if err != nil && !isRangeError(err) {
		return 0, false
	}
	return v, true
}

// stringToNumber mirrors JavaScript's ToNumber on a string, used by the
// loose equality of ==: "" and whitespace are 0, junk is NaN.
func stringToNumber(s string) float64 {
	s = trimSpace(s)
	if s == "" {
		return 0
	}
	switch s {
	case "Infinity", "+Infinity":
		return math.Inf(1)
	case "-Infinity":
		return math.Inf(-1)
	}
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			n, err := strconv.ParseUint(s[2:], base, 64)
			if err != nil {
				return math.NaN()
			}
			return float64(n)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isDigit(c) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return math.NaN()
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeError(err) {
		return math.NaN()
	}
	return v
}

// utf16Len returns the length of s in UTF-16 code units, JavaScript's
// string length.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// utf16At returns the code unit at index i (negative counts from the end)
// as a string, like JavaScript's String.prototype.at. Half of a surrogate
// pair becomes U+FFFD.
func utf16At(s string, i int) (string, bool) {
	units := utf16.Encode([]rune(s))
	if i < 0 {
		i += len(units)
	}
	if i < 0 || i >= len(units) {
		return "", false
	}
	return fromCharCode(int(units[i])), true
}

// compareUTF16 orders strings by UTF-16 code units, as JavaScript's < does.
func compareUTF16(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			ua, ub := utf16Key(ra), utf16Key(rb)
			if ua < ub {
				return -1
			}
			return 1
		}
		a, b = a[na:], b[nb:]
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

// utf16Key returns the first UTF-16 code unit of r, scaled so that runes
// sharing it still order by their second unit.
func utf16Key(r rune) int64 {
	if r < 0x10000 {
		return int64(r) << 16
	}
	hi, lo := utf16.EncodeRune(r)
	return int64(hi)<<16 | int64(lo)
}
