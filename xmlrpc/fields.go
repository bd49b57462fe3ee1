package xmlrpc

import (
	"reflect"
	"strings"
	"sync"
)

// A field is one struct member as it appears on the wire.
type field struct {
	name      string // member name
	index     []int  // path through embedded structs
	omitEmpty bool
	typ       reflect.Type
}

type structFields struct {
	list   []field
	byName map[string]int // index into list
}

var fieldCache sync.Map // reflect.Type -> *structFields

// cachedFields describes the members of struct type t. Fields are named by
// the tag `xmlrpc:"name,omitempty"` or else by the Go field name; a tag of
// "-" leaves the field out. Fields of embedded (non-pointer) structs are
// promoted as encoding/json does: the shallower wins, and two at the same
// depth cancel each other unless exactly one is tagged.
func cachedFields(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f, _ := fieldCache.LoadOrStore(t, typeFields(t))
	return f.(*structFields)
}

func typeFields(t reflect.Type) *structFields {
	type candidate struct {
		field
		depth  int
		tagged bool
	}
	var found []candidate
	var walk func(t reflect.Type, index []int, depth int)
	walk = func(t reflect.Type, index []int, depth int) {
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("xmlrpc")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(append([]int(nil), index...), i)
			if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
				walk(sf.Type, idx, depth+1)
				continue
			}
			if !sf.IsExported() {
				continue
			}
			tagged := name != ""
			if !tagged {
				name = sf.Name
			}
			found = append(found, candidate{
				field:  field{name: name, index: idx, omitEmpty: opts == "omitempty", typ: sf.Type},
				depth:  depth,
				tagged: tagged,
			})
		}
	}
	walk(t, nil, 0)

	// Resolve promoted names: keep the shallowest; at equal depth a single
	// tagged field wins, otherwise the name is ambiguous and dropped.
	best := map[string][]int{} // name -> indexes into found
	for i, c := range found {
		best[c.name] = append(best[c.name], i)
	}
	sf := &structFields{byName: map[string]int{}}
	for i, c := range found {
		winner := -1
		for _, j := range best[c.name] {
			o := found[j]
			switch {
			case winner < 0, o.depth < found[winner].depth:
				winner = j
			case o.depth == found[winner].depth && o.tagged == found[winner].tagged:
				winner = -2 // ambiguous at this depth
			case o.depth == found[winner].depth && o.tagged:
				winner = j
			}
			if winner == -2 {
				break
			}
		}
		if winner == i {
			sf.list = append(sf.list, c.field)
		}
	}
	for i := range sf.list {
		sf.byName[sf.list[i].name] = i
	}
	return sf
}

// fieldOf returns the struct field f of v, which must be addressable when
// the field is promoted from an embedded struct.
func fieldOf(v reflect.Value, f *field) reflect.Value {
	if len(f.index) == 1 {
		return v.Field(f.index[0])
	}
	return v.FieldByIndex(f.index)
}
