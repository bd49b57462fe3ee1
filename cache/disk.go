package cache

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxNameBytes bounds a name, and so the read of an entry: Koji's names
// are far shorter, and a larger file is not an entry.
const maxNameBytes = 4096

// staleTempAge is the age after which a temporary file is taken to be a
// crashed writer's rather than one another process is still writing.
const staleTempAge = time.Hour

// tempMarker is in the name of every temporary file, after a leading dot
// and the entry's id: no entry's name contains it.
const tempMarker = ".tmp-"

func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrName)
	case len(name) > maxNameBytes:
		return fmt.Errorf("%w: %d bytes, more than %d", ErrName, len(name), maxNameBytes)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w %q: not UTF-8", ErrName, name)
	case strings.ContainsFunc(name, unicode.IsControl):
		return fmt.Errorf("%w %q: control characters", ErrName, name)
	}
	return nil
}

func (c *Cache) kindDir(kind Kind) string { return filepath.Join(c.root, string(kind)) }

func (c *Cache) entryPath(k key) string {
	return filepath.Join(c.kindDir(k.kind), strconv.Itoa(k.id))
}

// readEntry returns the name in k's entry, or "" when there is no entry or
// it holds no valid name.
func (c *Cache) readEntry(k key) (string, error) {
	f, err := os.Open(c.entryPath(k))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxNameBytes+1))
	if err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	if checkName(string(data)) != nil {
		return "", nil
	}
	return string(data), nil
}

// store writes the names, ids to names, of one kind: each to a synced
// temporary file, then all renamed into place together, then the directory
// synced once. It drops those invalidated or put after gen.
func (c *Cache) store(kind Kind, names map[int]string, gen uint64) error {
	dir := c.kindDir(kind)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	c.sweep(kind)
	temps := make(map[int]string, len(names))
	defer func() {
		for _, tmp := range temps { // those not renamed
			os.Remove(tmp)
		}
	}()
	for id, name := range names {
		tmp, err := writeTemp(dir, id, name)
		if err != nil {
			return err
		}
		temps[id] = tmp
	}

	// Renames and invalidations happen under the lock, so that a name
	// looked up before an invalidation never lands after it.
	c.mu.Lock()
	var err error
	for id, tmp := range temps {
		k := key{kind, id}
		if c.stale(k, gen) {
			continue
		}
		if err = os.Rename(tmp, c.entryPath(k)); err != nil {
			err = fmt.Errorf("cache: %w", err)
			break
		}
		delete(temps, id)
		if c.memory {
			c.names[k] = names[id]
		}
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return syncDir(dir)
}

// writeTemp writes name to a new temporary file in dir, synced and closed,
// and returns its path.
func writeTemp(dir string, id int, name string) (string, error) {
	f, err := os.CreateTemp(dir, "."+strconv.Itoa(id)+tempMarker+"*")
	if err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	_, err = f.WriteString(name)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("cache: %w", err)
	}
	return f.Name(), nil
}

// syncDir makes the renames and removals in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for syncing there
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// sweep removes, once per kind in a Cache's life, the temporary files that
// crashed writers left in the kind's directory. Failures are left for the
// next Cache: the files are never read, only wasted space.
func (c *Cache) sweep(kind Kind) {
	c.mu.Lock()
	done := c.swept[kind]
	c.swept[kind] = true
	c.mu.Unlock()
	if done {
		return
	}
	dir := c.kindDir(kind)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !isTemp(e.Name()) {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleTempAge {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

func isTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempMarker)
}
