package journal

// Flushes returns how many times d has synced its log: the durable writes
// the benchmarks count.
func Flushes(d *Dir) uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.w.flushes
}
