package xmlrpc

import (
	"errors"
	"iter"
	"reflect"
)

// An ArrayReader reads the elements of a response whose value is an array
// one at a time, in memory bounded by the largest element rather than the
// whole response: a listTagged answer of tens of megabytes streams through
// a few kilobytes of buffer. Use it like sql.Rows:
//
//	arr, err := xmlrpc.NewDecoder(body).ResponseArray()
//	for arr.Next() {
//		var b Build
//		if err := arr.Decode(&b); err != nil { … }
//	}
//	if err := arr.Err(); err != nil { … }
type ArrayReader struct {
	dec     *Decoder
	index   int  // elements started so far
	pending bool // Next returned true and the element is still unread
	done    bool
	err     error

	emptyValue bool // the response value was <value/>
}

// ResponseArray reads a method response up to the first element of its
// array value. A fault response is returned as a *Fault error; a <nil/>
// value reads as an empty array; any other value is a *TypeError.
func (dec *Decoder) ResponseArray() (*ArrayReader, error) {
	a := &ArrayReader{dec: dec}
	fault, err := dec.openResponse()
	if err != nil || fault {
		return nil, err
	}
	d := &dec.d
	if err := d.openValue(); err != nil {
		return nil, err
	}
	a.emptyValue = d.emptyValue
	switch d.kind {
	case kindNil:
		a.done = true
		return a, a.finish()
	case kindArray:
	default:
		return nil, d.typeError(reflect.TypeFor[[]any](), "the response is not an array")
	}
	if err := d.enter(); err != nil {
		return nil, err
	}
	empty, err := d.openArray()
	if err != nil {
		return nil, err
	}
	if empty {
		a.done = true
		return a, a.finish()
	}
	return a, nil
}

// finish reads what follows the array and checks the document ends.
func (a *ArrayReader) finish() error {
	d := &a.dec.d
	if err := d.closeValue(a.emptyValue); err != nil {
		return err
	}
	return a.dec.end("param", "params", "methodResponse")
}

// Next prepares the next element for Decode, skipping the previous one if
// it was not decoded. It returns false at the end of the array or on error.
func (a *ArrayReader) Next() bool {
	if a.err != nil || a.done {
		return false
	}
	d := &a.dec.d
	if a.pending {
		if a.err = d.skipValue(); a.err != nil {
			return false
		}
	}
	more, err := d.nextElement()
	if err == nil && !more {
		a.done = true
		d.leave()
		err = a.finish()
	}
	a.err = err
	a.pending = more && err == nil
	if a.pending {
		a.index++
	}
	return a.pending
}

var errNoElement = errors.New("xmlrpc: ArrayReader.Decode called without a successful Next")

// Decode decodes the current element into v, a non-nil pointer. An error
// leaves the reader unusable, since the input stopped mid-element.
func (a *ArrayReader) Decode(v any) error {
	if !a.pending {
		if a.err != nil {
			return a.err
		}
		return errNoElement
	}
	a.pending = false
	if err := decodeInto(&a.dec.d, v); err != nil {
		a.err = prefixPath(err, indexPath(a.index-1))
		return a.err
	}
	return nil
}

// Err returns the error that stopped the reader, if any.
func (a *ArrayReader) Err() error { return a.err }

// Elements streams a response array as decoded values of type T. It stops
// at the first error, which it yields with the zero T.
func Elements[T any](a *ArrayReader) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for a.Next() {
			var v T
			if err := a.Decode(&v); err != nil {
				yield(v, err)
				return
			}
			if !yield(v, nil) {
				return
			}
		}
		if err := a.Err(); err != nil {
			var zero T
			yield(zero, err)
		}
	}
}
