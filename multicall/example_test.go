package multicall_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/multicall"
)

// Three calls in one request: two values and a fault, each read from its
// own typed handle. The hub here replays the reply a real Koji hub gave.
func Example() {
	reply, err := os.ReadFile("../internal/kojitest/testdata/wire/multicall_koji.response.xml")
	if err != nil {
		log.Fatal(err)
	}
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write(reply)
	}))
	defer hub.Close()

	c, err := koji.NewClient(hub.URL + "/kojihub")
	if err != nil {
		log.Fatal(err)
	}
	b := multicall.New(c, &multicall.Options{BatchSize: 500})
	tag := multicall.Add[*koji.Tag](b, "getTag", "anchor-build")
	build := multicall.AddKw[*koji.Build](b, "getBuild", []any{"no-such-build-1-1"}, map[string]any{"strict": true})
	version := multicall.Add[int](b, "getAPIVersion")
	if err := b.Run(context.Background()); err != nil {
		log.Fatal(err)
	}

	t, err := tag.Value()
	fmt.Println(t.Name, err)
	_, err = build.Value()
	fmt.Println(err)
	v, err := version.Value()
	fmt.Println(v, err)
	// Output:
	// anchor-build <nil>
	// koji: GenericError: No such build: 'no-such-build-1-1'
	// 1 <nil>
}
