package koji

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// upstreamParam is one parameter of a hub method as upstream declares it.
type upstreamParam struct {
	name     string
	optional bool // has a default
}

// upstreamSignature is a hub method's parameter list from
// testdata/koji-1.35.3-methods.txt, which lists every method of a Koji
// 1.35.3 hub as its _listapi describes it.
type upstreamSignature struct {
	params  []upstreamParam
	varargs bool // *args
	varkw   bool // **kwargs
}

var upstreamSignatures = sync.OnceValues(func() (map[string]upstreamSignature, error) {
	f, err := os.Open("testdata/koji-1.35.3-methods.txt")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sigs := map[string]upstreamSignature{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		open := strings.IndexByte(line, '(')
		if open < 0 || !strings.HasSuffix(line, ")") {
			return nil, fmt.Errorf("cannot parse %q", line)
		}
		var sig upstreamSignature
		// Defaults are simple literals (None, False, 'koji', 3), so no
		// parameter list holds a comma inside a default.
		for _, p := range strings.Split(line[open+1:len(line)-1], ",") {
			p = strings.TrimSpace(p)
			switch {
			case p == "":
			case strings.HasPrefix(p, "**"):
				sig.varkw = true
			case strings.HasPrefix(p, "*"):
				sig.varargs = true
			default:
				name, _, hasDefault := strings.Cut(p, "=")
				sig.params = append(sig.params, upstreamParam{name: strings.TrimSpace(name), optional: hasDefault})
			}
		}
		sigs[line[:open]] = sig
	}
	return sigs, sc.Err()
})

// checkUpstreamSignature reports how call would fail to bind to the
// parameters of the upstream hub method it names, as Python's call would:
// too many positional arguments, an unknown keyword, a parameter given
// twice, or a required one missing. Every call a stubHub receives passes
// through it, so tests of calls without a recorded exchange still prove
// the request fits upstream's signature.
func checkUpstreamSignature(call stubCall) error {
	sigs, err := upstreamSignatures()
	if err != nil {
		return err
	}
	sig, ok := sigs[call.Method]
	if !ok {
		return fmt.Errorf("%s is not a method of Koji 1.35.3", call.Method)
	}
	if len(call.Args) > len(sig.params) && !sig.varargs {
		return fmt.Errorf("%s takes at most %d positional arguments, got %d", call.Method, len(sig.params), len(call.Args))
	}
	given := map[string]bool{}
	for i := range min(len(call.Args), len(sig.params)) {
		given[sig.params[i].name] = true
	}
	for k := range call.Kwargs {
		known := false
		for _, p := range sig.params {
			known = known || p.name == k
		}
		switch {
		case !known && !sig.varkw:
			return fmt.Errorf("%s got an unexpected keyword argument %q", call.Method, k)
		case given[k]:
			return fmt.Errorf("%s got multiple values for argument %q", call.Method, k)
		}
		given[k] = true
	}
	for _, p := range sig.params {
		if !p.optional && !given[p.name] {
			return fmt.Errorf("%s is missing the required argument %q", call.Method, p.name)
		}
	}
	return nil
}

func TestUpstreamSignaturesCoverTheHub(t *testing.T) {
	sigs, err := upstreamSignatures()
	require.NoError(t, err)
	assert.Len(t, sigs, 320)
	assert.Equal(t, upstreamSignature{params: []upstreamParam{{"src", false}, {"target", false},
		{"opts", true}, {"priority", true}, {"channel", true}}}, sigs["build"])
	assert.Equal(t, upstreamSignature{params: []upstreamParam{{"channelInfo", false}}, varkw: true}, sigs["editChannel"])
}

func TestCheckUpstreamSignature(t *testing.T) {
	for _, tc := range []struct {
		call stubCall
		want string
	}{
		{stubCall{Method: "build", Args: []any{"src", "f43"}, Kwargs: map[string]any{"priority": 5}}, ""},
		{stubCall{Method: "editChannel", Args: []any{"x"}, Kwargs: map[string]any{"anything": 1}}, ""},
		{stubCall{Method: "echo", Args: []any{1, 2, 3}}, ""},
		{stubCall{Method: "build", Args: []any{"src"}}, `build is missing the required argument "target"`},
		{stubCall{Method: "build", Args: []any{"src", "f43"}, Kwargs: map[string]any{"prio": 5}},
			`build got an unexpected keyword argument "prio"`},
		{stubCall{Method: "build", Args: []any{"src", "f43"}, Kwargs: map[string]any{"target": "f44"}},
			`build got multiple values for argument "target"`},
		{stubCall{Method: "getBuild", Args: []any{1, false, nil}}, "getBuild takes at most 2 positional arguments, got 3"},
		{stubCall{Method: "getBuilds", Args: []any{1}}, "getBuilds is not a method of Koji 1.35.3"},
	} {
		err := checkUpstreamSignature(tc.call)
		if tc.want == "" {
			assert.NoError(t, err, tc.call.Method)
		} else {
			assert.EqualError(t, err, tc.want)
		}
	}
}
