// Package xmlrpc speaks the XML-RPC dialect of the Koji build system, in
// both directions: method calls and responses, faults, Koji's keyword
// arguments and multicall shapes, encoded and decoded as Koji's Python hub
// and client (xmlrpc.client with Koji's extensions) do.
//
// # Values
//
// Encoding writes nil as <nil/>; integers as <int> within 32 bits and <i8>
// within 64 (beyond is an error); floats as <double> with the shortest text
// that reads back exactly; strings escaped (a string XML cannot carry is an
// error); []byte as <base64>; time.Time as dateTime.iso8601 in UTC, to the
// second; slices and arrays as arrays; string-keyed maps (keys sorted) and
// structs as structs. Struct fields are named by the tag
// `xmlrpc:"name,omitempty"`, or else by the Go field name; "-" leaves a
// field out, omitempty leaves out a zero value and an empty slice or map,
// and fields of embedded structs are promoted. A nil pointer, interface,
// slice or map encodes as <nil/>; an empty non-nil slice as an empty array.
// An iterator, func(yield func(T) bool) or func(yield func(T, error) bool),
// encodes as an array, streamed as it yields.
//
// Decoding accepts whatever a Python peer may send: the type tags int, i1,
// i2, i4, i8, biginteger, double, float, bigdecimal, boolean, string,
// base64, dateTime.iso8601, nil, array and struct; a value of bare text as
// a string; white space between elements; namespace prefixes (ex:nil);
// entities, character references, CDATA, comments; UTF-8, US-ASCII and
// ISO-8859-1. It decodes straight from the byte stream into the target,
// with no intermediate tree:
//
//   - <nil/> leaves a pointer, slice, map or interface nil, and sets any
//     other value to its zero value.
//   - Decoding into a struct first zeroes it; unknown members are skipped.
//   - An integer may decode into a float. A time.Time accepts
//     dateTime.iso8601 and also the "2006-01-02 15:04:05.999999-07:00"
//     strings in which Koji's hub sends database timestamps.
//   - A mismatch is a *TypeError naming the path of the value, as in
//     "[3].owner_id".
//
// Decoded into an any, values are nil, bool, int64 (every integer type),
// float64, string, []byte, time.Time, []any and map[string]any.
//
// # Documents
//
// Encoder and Decoder read and write whole documents on streams;
// MarshalCall, DecodeResponse and friends do the same in memory. A fault
// response decodes as a *Fault error. A server decodes a call's parameters
// as RawValues and decodes each into its handler's argument types;
// SplitKwargs and AppendKwargs handle Koji's keyword arguments, the
// trailing struct marked with __starstar. MulticallCall, MulticallResult
// and DecodeMulticall carry system.multicall (Koji's multiCall).
//
// # Streaming and safety
//
// ArrayReader decodes a response array one element at a time in bounded
// memory. Limits bound the document size and the nesting depth; DOCTYPE
// and entity declarations are refused. No input makes the decoder panic
// or loop.
package xmlrpc
