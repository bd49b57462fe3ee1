package cache

import (
	"context"
	"errors"
	"fmt"

	"github.com/gokoji/gokoji/multicall"
)

// Warm fills the cache with the names of the objects of one kind with
// these ids, asking the hub for all those neither in memory nor on disk in
// one multicall batch (one request, unless it would pass the hub's size
// limit). Ids the hub has no object for are skipped, as Name skips them.
// The error joins those of the calls that failed; the others' names are
// stored.
func (c *Cache) Warm(ctx context.Context, kind Kind, ids []int) error {
	if err := checkKind(kind); err != nil {
		return err
	}
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()

	var misses []int
	seen := make(map[int]bool, len(ids))
	for _, id := range ids {
		k := key{kind, id}
		if seen[id] || c.inMemory(k) {
			continue
		}
		seen[id] = true
		name, err := c.readEntry(k)
		if err != nil {
			return err
		}
		if name != "" {
			c.remember(k, name, gen)
			continue
		}
		misses = append(misses, id)
	}
	if len(misses) == 0 {
		return nil
	}

	batch := multicall.New(c.client, nil)
	results := make([]*multicall.Result[*named], len(misses))
	for i, id := range misses {
		results[i] = multicall.Add[*named](batch, kindMethods[kind], id)
	}
	if err := batch.Run(ctx); err != nil {
		return fmt.Errorf("cache: warming %s names: %w", kind, err)
	}
	var errs []error
	names := map[int]string{}
	for i, r := range results {
		obj, err := r.Value()
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("cache: %s %d: %w", kind, misses[i], err))
		case obj == nil: // no such object
		default:
			if err := checkName(obj.Name); err != nil {
				errs = append(errs, fmt.Errorf("cache: %s %d: the hub answered %w", kind, misses[i], err))
				continue
			}
			names[misses[i]] = obj.Name
		}
	}
	if len(names) > 0 {
		if err := c.store(kind, names, gen); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (c *Cache) inMemory(k key) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.names[k]
	return ok
}
