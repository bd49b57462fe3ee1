package cache_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/gokoji/gokoji/cache"
	"github.com/gokoji/gokoji/koji"
)

// exampleSetup starts a tiny hub that knows users 1 (kojiadmin) and 2
// (builder1) and tag 10 (f43-build), and returns a client for it, a
// temporary cache directory and a cleanup function.
func exampleSetup() (*fakeHub, *koji.Client, string, func()) {
	hub := newHub()
	hub.add("getUser", 1, "kojiadmin")
	hub.add("getUser", 2, "builder1")
	hub.add("getTag", 10, "f43-build")
	client, err := koji.NewClient(hub.URL + "/kojihub")
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "gokoji-cache-example")
	if err != nil {
		log.Fatal(err)
	}
	return hub, client, dir, func() { hub.Close(); os.RemoveAll(dir) }
}

func Example() {
	_, client, dir, cleanup := exampleSetup()
	defer cleanup()
	ctx := context.Background()

	// Dir defaults to $XDG_CACHE_HOME/gokoji, or ~/.cache/gokoji.
	names, err := cache.New(client, &cache.Options{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	name, found, err := names.UserName(ctx, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(name, found)

	// The entry, in txkoji's layout: <dir>/<profile>/<kind>/<id>.
	entry, err := os.ReadFile(filepath.Join(dir, "default", "user", "1"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", entry)

	// The hub has no user 99: not found, and nothing cached.
	_, found, err = names.UserName(ctx, 99)
	fmt.Println(found, err)
	// Output:
	// kojiadmin true
	// "kojiadmin"
	// false <nil>
}

func ExampleCache_Warm() {
	hub, client, dir, cleanup := exampleSetup()
	defer cleanup()
	ctx := context.Background()
	names, err := cache.New(client, &cache.Options{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}

	// Owners of a page of tasks: one multicall for all of them.
	if err := names.Warm(ctx, cache.User, []int{1, 2, 1, 2}); err != nil {
		log.Fatal(err)
	}
	for _, id := range []int{1, 2} {
		name, _, err := names.UserName(ctx, id)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(id, name)
	}
	fmt.Println("hub requests:", hub.requestMethods())
	// Output:
	// 1 kojiadmin
	// 2 builder1
	// hub requests: [multiCall]
}

func ExampleCache_Put() {
	hub, client, dir, cleanup := exampleSetup()
	defer cleanup()
	names, err := cache.New(client, &cache.Options{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}

	// A tag message carries both the tag's id and its name.
	if err := names.Put(cache.Tag, 11, "f43-updates-candidate"); err != nil {
		log.Fatal(err)
	}
	name, _, err := names.TagName(context.Background(), 11)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(name)
	fmt.Println("hub requests:", len(hub.requestMethods()))
	// Output:
	// f43-updates-candidate
	// hub requests: 0
}

func ExampleCache_Invalidate() {
	hub, client, dir, cleanup := exampleSetup()
	defer cleanup()
	ctx := context.Background()
	names, err := cache.New(client, &cache.Options{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	name, _, err := names.TagName(ctx, 10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(name)

	// The tag is renamed (editTag2): forget the old name.
	hub.add("getTag", 10, "f43-build-old")
	if err := names.Invalidate(cache.Tag, 10); err != nil {
		log.Fatal(err)
	}
	name, _, err = names.TagName(ctx, 10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(name)
	// Output:
	// f43-build
	// f43-build-old
}
