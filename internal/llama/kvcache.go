package llama

import (
	"errors"
	"fmt"
)

// KVCache stores the rotated keys and the values of every layer for a fixed
// number of sequence slots, so that decoding a new token attends to the
// earlier positions without recomputing them. Each slot has room for
// Capacity positions. A KVCache belongs to the model that made it and is
// not safe for concurrent use.
type KVCache struct {
	model    *Model
	slots    int
	capacity int
	kvDim    int

	keys, values [][]float32 // per layer: [slots × capacity × kvDim]
	lengths      []int       // positions filled in each slot
	rope         ropeTable   // angles of positions [0, capacity)
}

// CacheSizeError reports that a KV cache does not fit in its byte budget.
type CacheSizeError struct {
	Slots, Positions int
	Need, Budget     int64 // bytes
}

// Error names the needed and the allowed size in MiB.
func (e *CacheSizeError) Error() string {
	return fmt.Sprintf("KV cache for %d sequences of up to %d positions needs %d MiB, more than the budget of %d MiB",
		e.Slots, e.Positions, ceilMiB(e.Need), e.Budget>>20)
}

func ceilMiB(bytes int64) int64 {
	return (bytes + 1<<20 - 1) >> 20
}

// KVCacheBytes returns the bytes of a cache of slots sequences of capacity
// positions: keys and values in float32 for every layer.
func KVCacheBytes(cfg Config, slots, capacity int) int64 {
	kvDim := int64(cfg.NumKVHeads * cfg.HeadDim)
	return 2 * 4 * int64(cfg.NumLayers) * int64(slots) * int64(capacity) * kvDim
}

// NewKVCache allocates a cache of slots sequences of up to capacity
// positions each. It returns a *CacheSizeError, and allocates nothing, when
// the cache needs more than budget bytes. capacity may not exceed
// max_position_embeddings.
func (m *Model) NewKVCache(slots, capacity int, budget int64) (*KVCache, error) {
	if m.embed == nil {
		return nil, errors.New("llama: model is closed")
	}
	cfg := m.Config
	if slots < 1 || capacity < 1 {
		return nil, fmt.Errorf("KV cache of %d slots × %d positions: want at least one of each", slots, capacity)
	}
	if capacity > cfg.MaxPositions {
		return nil, fmt.Errorf("KV cache capacity %d is more than max_position_embeddings %d", capacity, cfg.MaxPositions)
	}
	need := KVCacheBytes(cfg, slots, capacity)
	if need > budget {
		return nil, &CacheSizeError{Slots: slots, Positions: capacity, Need: need, Budget: budget}
	}

	kvDim := cfg.NumKVHeads * cfg.HeadDim
	c := &KVCache{
		model:    m,
		slots:    slots,
		capacity: capacity,
		kvDim:    kvDim,
		keys:     make([][]float32, cfg.NumLayers),
		values:   make([][]float32, cfg.NumLayers),
		lengths:  make([]int, slots),
		rope:     newRopeTable(m.invFreq, capacity),
	}
	for i := range c.keys {
		c.keys[i] = make([]float32, slots*capacity*kvDim)
		c.values[i] = make([]float32, slots*capacity*kvDim)
	}
	return c, nil
}

// Slots returns the number of sequence slots.
func (c *KVCache) Slots() int { return c.slots }

// Capacity returns the number of positions each slot can hold.
func (c *KVCache) Capacity() int { return c.capacity }

// Len returns the number of positions stored in slot.
func (c *KVCache) Len(slot int) int { return c.lengths[slot] }

// Reset empties slot so that a new sequence can be prefilled into it.
func (c *KVCache) Reset(slot int) { c.lengths[slot] = 0 }

// slotRows returns the keys or values of one slot in one layer as
// [capacity × kvDim].
func (c *KVCache) slotRows(buf []float32, slot int) []float32 {
	size := c.capacity * c.kvDim
	return buf[slot*size : (slot+1)*size]
}

// checkSlot validates a slot index and that n more positions fit in it.
func (c *KVCache) checkSlot(slot, n int) error {
	if slot < 0 || slot >= c.slots {
		return fmt.Errorf("KV cache slot %d out of range [0, %d)", slot, c.slots)
	}
	if c.lengths[slot]+n > c.capacity {
		return fmt.Errorf("KV cache slot %d contains %d positions and cannot take %d more because its capacity is %d",
			slot, c.lengths[slot], n, c.capacity)
	}
	return nil
}

// CopyPrefix replaces the contents of slot dst with the first n positions
// of slot src, so that a prompt shared by several sequences is prefilled
// once. The copied keys and values are those a prefill of the same tokens
// into dst would store.
func (c *KVCache) CopyPrefix(dst, src, n int) error {
	for _, slot := range []int{dst, src} {
		if slot < 0 || slot >= c.slots {
			return fmt.Errorf("KV cache slot %d out of range [0, %d)", slot, c.slots)
		}
	}
	if n < 0 || n > c.lengths[src] {
		return fmt.Errorf("copy %d positions from KV cache slot %d, which contains %d", n, src, c.lengths[src])
	}
	if dst != src {
		for i := range c.keys {
			copy(c.slotRows(c.keys[i], dst)[:n*c.kvDim], c.slotRows(c.keys[i], src)[:n*c.kvDim])
			copy(c.slotRows(c.values[i], dst)[:n*c.kvDim], c.slotRows(c.values[i], src)[:n*c.kvDim])
		}
	}
	c.lengths[dst] = n
	return nil
}
