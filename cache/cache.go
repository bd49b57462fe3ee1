// Package cache is a read-through cache of the names of Koji objects by
// id: users, tags, packages, hosts and channels. It keeps names in memory
// and on disk, where txkoji's cache keeps them, so that tools showing ids
// from task lists and messages ask the hub once per id, ever.
//
// # Layout
//
// Entries live under a root directory, by default DefaultDir:
// $XDG_CACHE_HOME/gokoji, or ~/.cache/gokoji. The layout is txkoji's: the
// file <root>/<profile>/<kind>/<id> holds the bare name, without a
// newline. The root is gokoji's own rather than txkoji's, so that
// neither tool's writes and invalidations surprise the other; the format
// being the same, Options.Dir set to $XDG_CACHE_HOME/txkoji shares
// txkoji's entries.
//
// Nothing expires, as in txkoji: ids are never reused, but the hub can
// rename tags, channels and users (editTag2, editChannel, editUser). A
// caller that learns of a rename calls Invalidate, or Put with the new name.
//
// # Crash safety
//
// A name is written to a temporary file in its entry's directory, synced,
// and renamed over the entry, and then the directory is synced: after a
// crash, of the process or of the machine, an entry holds the old name or
// the new one, never part of either. Temporary files are named
// .<id>.tmp-<random>, a name no reader opens; those a crash left behind
// are removed, once they are an hour old, by a Cache's first write into
// their directory. An entry that is empty or holds no valid name (say, from a tool that
// writes in place and crashed) counts as a miss and is written anew.
//
// # Concurrency
//
// A Cache is safe for concurrent use. Concurrent lookups of an id that is
// not in memory share one disk read and at most one hub call, cancelled
// only when every caller waiting for it has given up. Other processes may use
// the same directory: they see each other's entries, though each Cache's
// memory layer keeps the names it has seen until it is told to forget them.
package cache

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gokoji/gokoji/koji"
)

// A Kind is a type of Koji object with a name. Its value is the name of
// its subdirectory in the cache, as in txkoji.
type Kind string

// The kinds of objects the cache knows.
const (
	User    Kind = "user"
	Tag     Kind = "tag"
	Package Kind = "package"
	Host    Kind = "host"
	Channel Kind = "channel"
)

// kindMethods maps each kind to the hub method that returns an object of
// that kind, with its name, by id.
var kindMethods = map[Kind]string{
	User:    "getUser",
	Tag:     "getTag",
	Package: "getPackage",
	Host:    "getHost",
	Channel: "getChannel",
}

var (
	// ErrKind reports a Kind that is not one of the package's constants.
	ErrKind = errors.New("cache: unknown kind")
	// ErrName reports a name that cannot be cached: empty, longer than
	// 4 KiB, not UTF-8, or holding control characters. Koji allows none
	// of these in the names it caches.
	ErrName = errors.New("cache: invalid name")
	// ErrProfile reports a profile name that cannot name a directory.
	ErrProfile = errors.New("cache: invalid profile name")
)

func checkKind(kind Kind) error {
	if _, ok := kindMethods[kind]; !ok {
		return fmt.Errorf("%w %q", ErrKind, string(kind))
	}
	return nil
}

// Options configure a Cache. The zero value caches for the client's
// profile under DefaultDir, in memory and on disk.
type Options struct {
	// Dir is the root directory; empty means DefaultDir().
	Dir string
	// Profile names the subdirectory of Dir holding this hub's entries;
	// empty means the client's profile name, or "default" when it has
	// none (a client made by koji.NewClient).
	Profile string
	// NoMemory turns the memory layer off, so that every lookup reads the
	// disk and sees what other processes wrote or invalidated there.
	NoMemory bool
}

// DefaultDir returns the default root directory: gokoji in
// $XDG_CACHE_HOME, or in ~/.cache when XDG_CACHE_HOME is unset or, as the
// XDG Base Directory specification says to treat it, not absolute.
func DefaultDir() (string, error) {
	if dir := os.Getenv("XDG_CACHE_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "gokoji"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cache: no home directory for the default cache: %w", err)
	}
	return filepath.Join(home, ".cache", "gokoji"), nil
}

// A Cache maps ids to names for one hub profile.
type Cache struct {
	client *koji.Client
	root   string // <dir>/<profile>
	memory bool

	mu      sync.Mutex
	names   map[key]string
	flights map[key]*flight
	// Invalidations and Puts are numbered by gen. A lookup notes the
	// number current when it begins and does not store the name it finds
	// for a key invalidated or put since: that name may be outdated.
	gen         uint64
	changed     map[key]uint64  // the number of each key's last Invalidate or Put
	kindChanged map[Kind]uint64 // the number of each kind's last InvalidateAll
	swept       map[Kind]bool   // kinds whose directory was cleared of stale temporary files
}

type key struct {
	kind Kind
	id   int
}

// A flight is a lookup in progress, shared by the callers waiting for it.
type flight struct {
	done    chan struct{}
	cancel  context.CancelFunc
	waiters int // guarded by Cache.mu

	// Set before done is closed.
	name  string
	found bool
	err   error
}

// New returns a cache that asks c for the names it lacks. It touches the
// disk only when it looks an entry up or stores one.
func New(c *koji.Client, opts *Options) (*Cache, error) {
	if c == nil {
		return nil, errors.New("cache: New needs a client")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Dir == "" {
		dir, err := DefaultDir()
		if err != nil {
			return nil, err
		}
		o.Dir = dir
	}
	if o.Profile == "" && c.Profile() != nil {
		o.Profile = c.Profile().Name
	}
	if o.Profile == "" {
		o.Profile = "default"
	}
	if o.Profile == "." || o.Profile == ".." || strings.ContainsAny(o.Profile, "/\\\x00") {
		return nil, fmt.Errorf("%w: %q", ErrProfile, o.Profile)
	}
	return &Cache{
		client:      c,
		root:        filepath.Join(o.Dir, o.Profile),
		memory:      !o.NoMemory,
		names:       map[key]string{},
		flights:     map[key]*flight{},
		changed:     map[key]uint64{},
		kindChanged: map[Kind]uint64{},
		swept:       map[Kind]bool{},
	}, nil
}

// Name returns the name of the object of that kind and id, from memory,
// else from disk, else from the hub, storing what it learns. found is
// false, and nothing is stored, when the hub has no such object. When the
// hub's answer could not be stored, Name returns the name with the error.
func (c *Cache) Name(ctx context.Context, kind Kind, id int) (name string, found bool, err error) {
	if err := checkKind(kind); err != nil {
		return "", false, err
	}
	k := key{kind, id}
	c.mu.Lock()
	if name, ok := c.names[k]; ok {
		c.mu.Unlock()
		return name, true, nil
	}
	if err := ctx.Err(); err != nil {
		c.mu.Unlock()
		return "", false, err
	}
	f := c.flights[k]
	if f == nil {
		// The lookup outlives the caller that started it while others
		// still wait for it, so it runs on a context of its own.
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &flight{done: make(chan struct{}), cancel: cancel}
		c.flights[k] = f
		go c.fly(fctx, k, f, c.gen)
	}
	f.waiters++
	c.mu.Unlock()

	select {
	case <-f.done:
		return f.name, f.found, f.err
	case <-ctx.Done():
		c.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			f.cancel()
			if c.flights[k] == f {
				delete(c.flights, k)
			}
		}
		c.mu.Unlock()
		return "", false, ctx.Err()
	}
}

func (c *Cache) fly(ctx context.Context, k key, f *flight, gen uint64) {
	defer f.cancel()
	name, found, err := c.load(ctx, k, gen)
	c.mu.Lock()
	f.name, f.found, f.err = name, found, err
	if c.flights[k] == f {
		delete(c.flights, k)
	}
	c.mu.Unlock()
	close(f.done)
}

// load reads k's entry from disk, or else asks the hub and stores the
// answer.
func (c *Cache) load(ctx context.Context, k key, gen uint64) (string, bool, error) {
	name, err := c.readEntry(k)
	if err != nil {
		return "", false, err
	}
	if name != "" {
		c.remember(k, name, gen)
		return name, true, nil
	}
	var obj *named
	if err := c.client.Call(ctx, kindMethods[k.kind], &obj, k.id); err != nil {
		return "", false, fmt.Errorf("cache: %s %d: %w", k.kind, k.id, err)
	}
	if obj == nil {
		return "", false, nil
	}
	if err := checkName(obj.Name); err != nil {
		return "", false, fmt.Errorf("cache: %s %d: the hub answered %w", k.kind, k.id, err)
	}
	return obj.Name, true, c.store(k.kind, map[int]string{k.id: obj.Name}, gen)
}

// named is the part of a hub object the cache reads.
type named struct {
	Name string `xmlrpc:"name"`
}

// stale reports whether k was invalidated or put after gen. The caller
// holds c.mu.
func (c *Cache) stale(k key, gen uint64) bool {
	return c.changed[k] > gen || c.kindChanged[k.kind] > gen
}

// remember puts a name read from disk in memory, unless k was invalidated
// or put after the read began, or a write since put a name there.
func (c *Cache) remember(k key, name string, gen uint64) {
	if !c.memory {
		return
	}
	c.mu.Lock()
	if _, ok := c.names[k]; !ok && !c.stale(k, gen) {
		c.names[k] = name
	}
	c.mu.Unlock()
}

// UserName returns the name of the user with that id (getUser).
func (c *Cache) UserName(ctx context.Context, id int) (string, bool, error) {
	return c.Name(ctx, User, id)
}

// TagName returns the name of the tag with that id (getTag).
func (c *Cache) TagName(ctx context.Context, id int) (string, bool, error) {
	return c.Name(ctx, Tag, id)
}

// PackageName returns the name of the package with that id (getPackage).
func (c *Cache) PackageName(ctx context.Context, id int) (string, bool, error) {
	return c.Name(ctx, Package, id)
}

// HostName returns the name of the host with that id (getHost).
func (c *Cache) HostName(ctx context.Context, id int) (string, bool, error) {
	return c.Name(ctx, Host, id)
}

// ChannelName returns the name of the channel with that id (getChannel).
func (c *Cache) ChannelName(ctx context.Context, id int) (string, bool, error) {
	return c.Name(ctx, Channel, id)
}

// Put stores a name learnt elsewhere, such as from a message, replacing
// the entry's name if it had one. Lookups of the entry already under way
// do not store what they find over it.
func (c *Cache) Put(kind Kind, id int, name string) error {
	if err := checkKind(kind); err != nil {
		return err
	}
	if err := checkName(name); err != nil {
		return fmt.Errorf("cache: %s %d: %w", kind, id, err)
	}
	k := key{kind, id}
	c.mu.Lock()
	c.gen++
	c.changed[k] = c.gen
	gen := c.gen
	delete(c.flights, k)
	c.mu.Unlock()
	return c.store(kind, map[int]string{id: name}, gen)
}

// Invalidate forgets the name of one object, in memory and on disk; the
// next lookup asks the hub. Lookups already under way do not store what
// they find.
func (c *Cache) Invalidate(kind Kind, id int) error {
	if err := checkKind(kind); err != nil {
		return err
	}
	k := key{kind, id}
	c.mu.Lock()
	c.gen++
	c.changed[k] = c.gen
	delete(c.names, k)
	delete(c.flights, k)
	err := os.Remove(c.entryPath(k))
	c.mu.Unlock()
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return syncDir(c.kindDir(kind))
}

// InvalidateAll forgets every name of the given kinds, or of all kinds
// when none is given, for this cache's profile.
func (c *Cache) InvalidateAll(kinds ...Kind) error {
	for _, kind := range kinds {
		if err := checkKind(kind); err != nil {
			return err
		}
	}
	if len(kinds) == 0 {
		for kind := range kindMethods {
			kinds = append(kinds, kind)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	var errs []error
	for _, kind := range kinds {
		c.kindChanged[kind] = c.gen
		for k := range c.changed { // kindChanged now covers them
			if k.kind == kind {
				delete(c.changed, k)
			}
		}
		for k := range c.names {
			if k.kind == kind {
				delete(c.names, k)
			}
		}
		for k := range c.flights {
			if k.kind == kind {
				delete(c.flights, k)
			}
		}
		if err := os.RemoveAll(c.kindDir(kind)); err != nil {
			errs = append(errs, fmt.Errorf("cache: %w", err))
		}
	}
	return errors.Join(errs...)
}
