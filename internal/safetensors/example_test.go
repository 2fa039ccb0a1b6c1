package safetensors_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"ipo/internal/safetensors"
)

// Example writes a bfloat16 tensor and reads it back as float32.
func Example() {
	dir, err := os.MkdirTemp("", "safetensors-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	data, err := safetensors.EncodeFloat32([]float32{1, 0.5, -2, 3.14159}, safetensors.BF16)
	if err != nil {
		log.Fatal(err)
	}
	tensors := []safetensors.WriteTensor{{Name: "w", DType: safetensors.BF16, Shape: []int{2, 2}, Data: data}}
	if err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), tensors, map[string]string{"format": "pt"}); err != nil {
		log.Fatal(err)
	}

	set, err := safetensors.OpenModel(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer set.Close()

	w, err := set.Float32("w", 2, 2)
	if err != nil {
		log.Fatal(err)
	}
	info, _ := set.Info("w")
	fmt.Println(set.Names(), info.DType, info.Shape, w, set.Metadata()["format"])
	// Output: [w] BF16 [2 2] [1 0.5 -2 3.140625] pt
}
