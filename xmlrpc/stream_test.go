package xmlrpc

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestArrayReaderFixture(t *testing.T) {
	doc := readFixture(t, "listTagged.response.xml")
	for _, r := range []io.Reader{bytes.NewReader(doc), iotest.OneByteReader(bytes.NewReader(doc))} {
		arr, err := NewDecoder(r).ResponseArray()
		require.NoError(t, err)
		var names []string
		for arr.Next() {
			var b decodeBuild
			require.NoError(t, arr.Decode(&b))
			names = append(names, b.Name)
		}
		require.NoError(t, arr.Err())
		assert.Equal(t, []string{"bar", "foo"}, names)
		assert.False(t, arr.Next())
	}
}

func TestArrayReaderSkipsUndecodedElements(t *testing.T) {
	doc, err := MarshalResponse([]any{1, []any{2, map[string]any{"x": 3}}, "three", nil, 4})
	require.NoError(t, err)
	arr, err := NewDecoder(bytes.NewReader(doc)).ResponseArray()
	require.NoError(t, err)
	var got []any
	for i := 0; arr.Next(); i++ {
		if i%2 == 1 {
			continue // not decoded: Next skips it
		}
		var v any
		require.NoError(t, arr.Decode(&v))
		got = append(got, v)
	}
	require.NoError(t, arr.Err())
	assert.Equal(t, []any{int64(1), "three", int64(4)}, got)
}

func TestArrayReaderShapes(t *testing.T) {
	for doc, n := range map[string]int{
		"<value><nil/></value>":                                                          0,
		"<value><array/></value>":                                                        0,
		"<value><array><data/></array></value>":                                          0,
		"<value><array><data></data></array></value>":                                    0,
		"<value><array><data><value>x</value></data></array></value>":                    1,
		"<value><array><data><value/><value><int>1</int></value></data></array></value>": 2,
	} {
		arr, err := NewDecoder(bytes.NewReader(response(doc))).ResponseArray()
		require.NoError(t, err, doc)
		count := 0
		for arr.Next() {
			count++
		}
		require.NoError(t, arr.Err(), doc)
		assert.Equal(t, n, count, doc)
	}

	_, err := NewDecoder(bytes.NewReader(response("<value><int>1</int></value>"))).ResponseArray()
	var te *TypeError
	assert.ErrorAs(t, err, &te)

	_, err = NewDecoder(bytes.NewReader(readFixture(t, "getBuild_nonexistent_strict.response.xml"))).ResponseArray()
	var f *Fault
	require.ErrorAs(t, err, &f)
	assert.Equal(t, 1000, f.Code)
}

func TestArrayReaderErrors(t *testing.T) {
	doc := response("<value><array><data><value><int>1</int></value><value><string>x</string></value><value><int>3</int></value></data></array></value>")
	arr, err := NewDecoder(bytes.NewReader(doc)).ResponseArray()
	require.NoError(t, err)
	var n int
	assert.ErrorIs(t, arr.Decode(&n), errNoElement)
	require.True(t, arr.Next())
	require.NoError(t, arr.Decode(&n))
	require.True(t, arr.Next())
	err = arr.Decode(&n)
	var te *TypeError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "[1]", te.Path)
	assert.False(t, arr.Next(), "a failed element leaves the reader unusable")
	assert.Equal(t, err, arr.Err())

	truncated := doc[:len(doc)-40]
	arr, err = NewDecoder(bytes.NewReader(truncated)).ResponseArray()
	require.NoError(t, err)
	for arr.Next() {
		var v any
		require.NoError(t, arr.Decode(&v))
	}
	assert.ErrorIs(t, arr.Err(), io.ErrUnexpectedEOF)
}

func TestElements(t *testing.T) {
	doc, err := MarshalResponse([]int{1, 2, 3})
	require.NoError(t, err)
	arr, err := NewDecoder(bytes.NewReader(doc)).ResponseArray()
	require.NoError(t, err)
	var got []int
	for v, err := range Elements[int](arr) {
		require.NoError(t, err)
		got = append(got, v)
		if v == 2 {
			break
		}
	}
	assert.Equal(t, []int{1, 2}, got)

	doc, err = MarshalResponse([]any{1, "two"})
	require.NoError(t, err)
	arr, err = NewDecoder(bytes.NewReader(doc)).ResponseArray()
	require.NoError(t, err)
	var errs []error
	for _, err := range Elements[int](arr) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 2)
	assert.NoError(t, errs[0])
	assert.Error(t, errs[1])
}

// A response far larger than the decoder's buffer streams through it: the
// encoder writes into a pipe as the reader decodes.
func TestStreamThroughPipe(t *testing.T) {
	const n = 50_000
	pr, pw := io.Pipe()
	go func() {
		seq := func(yield func(map[string]any) bool) {
			for i := range n {
				if !yield(map[string]any{"id": i, "nvr": fmt.Sprintf("pkg-%d-1.fc43", i)}) {
					return
				}
			}
		}
		pw.CloseWithError(NewEncoder(pw).EncodeResponse(seq))
	}()
	arr, err := NewDecoder(pr).ResponseArray()
	require.NoError(t, err)
	count := 0
	for arr.Next() {
		var b struct {
			ID  int    `xmlrpc:"id"`
			NVR string `xmlrpc:"nvr"`
		}
		require.NoError(t, arr.Decode(&b))
		require.Equal(t, count, b.ID)
		count++
	}
	require.NoError(t, arr.Err())
	assert.Equal(t, n, count)
}
