package xmlrpc_test

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"log"
	"os"
	"strings"

	"github.com/gokoji/gokoji/xmlrpc"
)

// A call with Koji's keyword arguments: listTagged(tag, inherit=True, latest=True).
func ExampleMarshalCall() {
	type listTaggedOpts struct {
		Inherit bool   `xmlrpc:"inherit,omitempty"`
		Latest  bool   `xmlrpc:"latest,omitempty"`
		Package string `xmlrpc:"package,omitempty"`
	}
	params := xmlrpc.AppendKwargs([]any{"f43-build"}, listTaggedOpts{Inherit: true, Latest: true})
	doc, err := xmlrpc.MarshalCall("listTagged", params...)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(doc))
	// Output:
	// <?xml version='1.0'?>
	// <methodCall>
	// <methodName>listTagged</methodName>
	// <params>
	// <param>
	// <value><string>f43-build</string></value>
	// </param>
	// <param>
	// <value><struct>
	// <member>
	// <name>inherit</name>
	// <value><boolean>1</boolean></value>
	// </member>
	// <member>
	// <name>latest</name>
	// <value><boolean>1</boolean></value>
	// </member>
	// <member>
	// <name>__starstar</name>
	// <value><boolean>1</boolean></value>
	// </member>
	// </struct></value>
	// </param>
	// </params>
	// </methodCall>
}

// Decoding a hub's response into typed values: nil members leave pointers
// nil, and a fault comes back as a *Fault error.
func ExampleDecodeResponse() {
	type build struct {
		NVR    string `xmlrpc:"nvr"`
		Epoch  *int   `xmlrpc:"epoch"`
		TaskID *int   `xmlrpc:"task_id"`
	}
	doc, err := os.ReadFile("testdata/wire/listTagged.response.xml")
	if err != nil {
		log.Fatal(err)
	}
	var builds []build
	if err := xmlrpc.DecodeResponse(doc, &builds); err != nil {
		log.Fatal(err)
	}
	for _, b := range builds {
		fmt.Println(b.NVR, "epoch set:", b.Epoch != nil, "task set:", b.TaskID != nil)
	}

	fault, _ := os.ReadFile("testdata/wire/getBuild_nonexistent_strict.response.xml")
	var f *xmlrpc.Fault
	if err := xmlrpc.DecodeResponse(fault, &builds); errors.As(err, &f) {
		fmt.Println("fault", f.Code, f.String)
	}
	// Output:
	// bar-2.0-3.el9 epoch set: true task set: false
	// foo-1.0-1 epoch set: false task set: false
	// fault 1000 No such build: 'no-such-build-1-1'
}

// Streaming a large array response element by element, in bounded memory.
func ExampleDecoder_ResponseArray() {
	body, err := os.Open("testdata/wire/listTagged.response.xml") // an HTTP response body in practice
	if err != nil {
		log.Fatal(err)
	}
	defer body.Close()
	arr, err := xmlrpc.NewDecoder(body).ResponseArray()
	if err != nil {
		log.Fatal(err)
	}
	for arr.Next() {
		var b struct {
			NVR string `xmlrpc:"nvr"`
		}
		if err := arr.Decode(&b); err != nil {
			log.Fatal(err)
		}
		fmt.Println(b.NVR)
	}
	if err := arr.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// bar-2.0-3.el9
	// foo-1.0-1
}

// A server answering with a result produced by an iterator: the array is
// written as it is produced, never held whole.
func ExampleEncoder_EncodeResponse() {
	nvrs := func(yield func(string) bool) {
		for _, nvr := range []string{"foo-1.0-1", "bar-2.0-3.el9"} {
			if !yield(nvr) {
				return
			}
		}
	}
	var out bytes.Buffer
	if err := xmlrpc.NewEncoder(&out).EncodeResponse(iter.Seq[string](nvrs)); err != nil {
		log.Fatal(err)
	}
	fmt.Print(out.String())
	// Output:
	// <?xml version='1.0'?>
	// <methodResponse>
	// <params>
	// <param>
	// <value><array><data>
	// <value><string>foo-1.0-1</string></value>
	// <value><string>bar-2.0-3.el9</string></value>
	// </data></array></value>
	// </param>
	// </params>
	// </methodResponse>
}

// A server reading a call: parameters stay raw until the handler decodes
// them into its own argument types; keyword arguments are split off.
func ExampleDecodeCall() {
	doc, err := os.ReadFile("testdata/wire/getUser_kwargs.request.xml")
	if err != nil {
		log.Fatal(err)
	}
	call, err := xmlrpc.DecodeCall(doc)
	if err != nil {
		log.Fatal(err)
	}
	var user string
	var strict bool
	if err := call.Params[0].Decode(&user); err != nil {
		log.Fatal(err)
	}
	if err := call.Kwargs["strict"].Decode(&strict); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s(%q, strict=%v) with %d keyword arguments\n", call.Method, user, strict, len(call.Kwargs))
	// Output: getUser("kojiadmin", strict=true) with 2 keyword arguments
}

// A multicall: several calls in one request, each answered by a value or
// a fault.
func ExampleMulticallResult() {
	req, err := xmlrpc.MarshalCall("multiCall", []xmlrpc.MulticallCall{
		{Method: "getTag", Params: []any{"anchor-build"}},
		{Method: "getBuild", Params: xmlrpc.AppendKwargs([]any{"no-such-build-1-1"}, map[string]any{"strict": true})},
		{Method: "getAPIVersion"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.Count(string(req), "<name>methodName</name>"), "calls")

	resp, err := os.ReadFile("testdata/wire/multicall_koji.response.xml") // the hub's answer
	if err != nil {
		log.Fatal(err)
	}
	var results []xmlrpc.MulticallResult
	if err := xmlrpc.DecodeResponse(resp, &results); err != nil {
		log.Fatal(err)
	}
	for _, r := range results {
		if r.Fault != nil {
			fmt.Println("fault:", r.Fault.String)
			continue
		}
		var v any
		if err := r.Value.Decode(&v); err != nil {
			log.Fatal(err)
		}
		if tag, ok := v.(map[string]any); ok {
			fmt.Println("tag:", tag["name"])
		} else {
			fmt.Println("value:", v)
		}
	}
	// Output:
	// 3 calls
	// tag: anchor-build
	// fault: No such build: 'no-such-build-1-1'
	// value: 1
}
