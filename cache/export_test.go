package cache

// Waiters returns how many callers wait for the lookup of kind and id in
// progress, so that tests can release a held hub once they all do.
func Waiters(c *Cache, kind Kind, id int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := c.flights[key{kind, id}]; f != nil {
		return f.waiters
	}
	return 0
}

// StaleTempAge is the age after which a write sweeps a temporary file.
const StaleTempAge = staleTempAge
