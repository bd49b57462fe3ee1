package xmlrpc

import (
	"errors"
	"fmt"
	"reflect"
)

// Koji's hub answers system.multicall and multiCall with the same handler:
// one parameter, an array of {methodName, params} structs, and one result
// entry per call, a one-element array holding the value or a fault struct.

// A MulticallCall is one call in a multicall request, as a client sends it.
// Params is the call's positional parameters, with keyword arguments
// already appended by AppendKwargs.
type MulticallCall struct {
	Method string
	Params []any
}

// MarshalXMLRPC writes the call as the {methodName, params} struct, with
// params always an array.
func (c MulticallCall) MarshalXMLRPC() (any, error) {
	params := c.Params
	if params == nil {
		params = []any{}
	}
	return multicallWire{MethodName: c.Method, Params: params}, nil
}

type multicallWire struct {
	MethodName string `xmlrpc:"methodName"`
	Params     []any  `xmlrpc:"params"`
}

// A MulticallResult is one entry of a multicall response: a value or a
// fault. Decode a value's Value with RawValue.Decode.
type MulticallResult struct {
	Value RawValue
	Fault *Fault
}

// MarshalXMLRPC writes the entry as Koji's hub does: [value] or the fault
// struct (with its traceback when set).
func (r MulticallResult) MarshalXMLRPC() (any, error) {
	if r.Fault != nil {
		return r.Fault, nil
	}
	if r.Value == nil {
		return []any{nil}, nil
	}
	return []RawValue{r.Value}, nil
}

// notMulticallEntry reports a multicall result entry of the wrong shape.
func notMulticallEntry(value string) error {
	return &TypeError{Value: value, Type: reflect.TypeFor[MulticallResult](),
		Detail: "a multicall result entry is a one-element array or a fault struct"}
}

// UnmarshalXMLRPC reads an entry of either shape.
func (r *MulticallResult) UnmarshalXMLRPC(raw RawValue) error {
	var list []RawValue
	err := raw.Decode(&list)
	var typeErr *TypeError
	if errors.As(err, &typeErr) && typeErr.Path == "" {
		var f faultStruct
		if err := raw.Decode(&f); err != nil {
			return notMulticallEntry(typeErr.Value)
		}
		*r = MulticallResult{Fault: f.fault()}
		return nil
	}
	if err != nil {
		return err
	}
	if len(list) != 1 {
		return notMulticallEntry(fmt.Sprintf("array of %d", len(list)))
	}
	*r = MulticallResult{Value: list[0]}
	return nil
}

// A MulticallEntry is one call of a multicall request as a server reads
// it. Err is set when the entry is malformed; the hub answers that entry
// with a fault and runs the others.
type MulticallEntry struct {
	Call Call
	Err  error
}

// DecodeMulticall reads the parameter of a system.multicall or multiCall
// request, splitting each call's keyword arguments as SplitKwargs does.
func DecodeMulticall(param RawValue) ([]MulticallEntry, error) {
	var raws []RawValue
	if err := param.Decode(&raws); err != nil {
		return nil, err
	}
	entries := make([]MulticallEntry, len(raws))
	for i, raw := range raws {
		var w struct {
			MethodName *string    `xmlrpc:"methodName"`
			Params     []RawValue `xmlrpc:"params"`
		}
		e := &entries[i]
		switch err := raw.Decode(&w); {
		case err != nil:
			e.Err = prefixPath(err, indexPath(i))
		case w.MethodName == nil || *w.MethodName == "":
			e.Err = errors.New("xmlrpc: multicall entry has no methodName")
		default:
			e.Call.Method = *w.MethodName
			e.Call.Params, e.Call.Kwargs, e.Err = SplitKwargs(w.Params)
		}
	}
	return entries, nil
}
