package train

import (
	"strings"
	"testing"
)

func TestDecodeYAMLRejectsFractionalIntegers(t *testing.T) {
	cases := []struct {
		doc, want string
	}{
		{"lora_r: 2.5\n", "lora_r must be a whole number"},
		{"max_steps: 2.9\n", "max_steps must be a whole number"},
		{"save_steps: 10.0001\n", "save_steps must be a whole number"},
	}
	for _, c := range cases {
		cfg := DefaultDPOConfig()
		err := DecodeYAML([]byte(c.doc), &cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want one containing %q", c.doc, err, c.want)
		}
	}
}

func TestDecodeYAMLAcceptsWholeFloats(t *testing.T) {
	cfg := DefaultDPOConfig()
	if err := DecodeYAML([]byte("lora_r: 4.0\nlearning_rate: 1.5e-5\n"), &cfg); err != nil {
		t.Fatal(err)
	}
	lora, err := cfg.Lora()
	if err != nil {
		t.Fatal(err)
	}
	if lora.R != 4 {
		t.Errorf("lora r = %d, want 4", lora.R)
	}
}
