//go:build !amd64

package compute

// platformBackends returns no assembly backends: they exist for amd64 only.
func platformBackends() []Backend { return nil }
