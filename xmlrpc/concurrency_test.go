package xmlrpc

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Types whose decoders are first built concurrently: a recursive struct,
// pointers to Unmarshalers and RawValues, and the multicall shapes.
type concurrentNode struct {
	Name     string            `xmlrpc:"name"`
	Children []*concurrentNode `xmlrpc:"children"`
	Version  *version          `xmlrpc:"version"`
	Raw      *RawValue         `xmlrpc:"raw"`
	Results  []MulticallResult `xmlrpc:"results"`
}

// Decoders and encoders are shared by type across goroutines; run under
// -race, this shows the caches and the member-order hints are safe.
func TestConcurrentUse(t *testing.T) {
	tree := map[string]any{
		"name":    "root",
		"version": []int{1, 35},
		"raw":     nil,
		"results": []MulticallResult{{Value: RawValue("<value><int>1</int></value>")}, {Fault: &Fault{Code: 1000, String: "x"}}},
		"children": []any{
			map[string]any{"name": "a", "children": []any{map[string]any{"name": "a1", "raw": "kept"}}},
			map[string]any{"children": nil, "name": "b"},
		},
	}
	doc, err := MarshalResponse(tree)
	require.NoError(t, err)
	listTagged := readFixture(t, "listTagged.response.xml")

	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				var root concurrentNode
				if !assert.NoError(t, DecodeResponse(doc, &root)) {
					return
				}
				assert.Equal(t, "a1", root.Children[0].Children[0].Name)
				assert.Equal(t, &version{1, 35}, root.Version)
				assert.Nil(t, root.Raw)
				assert.Equal(t, 1000, root.Results[1].Fault.Code)

				var builds []decodeBuild
				assert.NoError(t, DecodeResponse(listTagged, &builds))
				assert.Len(t, builds, 2)
				_, err := MarshalResponse(builds)
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
}
