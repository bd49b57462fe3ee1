package rpm

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// qfValue renders a Field value as rpm -qp --qf renders the tag: items
// separated by "@@", BIN as hex, a missing scalar as "(none)".
func qfValue(v any) string {
	item := func(x any) string {
		if b, ok := x.([]byte); ok {
			return hex.EncodeToString(b)
		}
		return fmt.Sprint(x)
	}
	switch x := v.(type) {
	case nil:
		return "(none)"
	case []any:
		var b strings.Builder
		for _, it := range x {
			b.WriteString(item(it) + "@@")
		}
		return b.String()
	}
	return item(v)
}

// TestFieldsMatchRPM compares every tag rpm exports (rpm --querytags),
// read by Field from the testdata packages, with rpm -qp --qf.
func TestFieldsMatchRPM(t *testing.T) {
	names := strings.Fields(runTool(t, "rpm", "--querytags"))
	if len(names) < 200 {
		t.Fatalf("rpm --querytags: %d names", len(names))
	}
	for _, file := range testdataRPMs {
		path := filepath.Join("testdata", file)
		p, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var qf strings.Builder
		var checked []string
		want := map[string]string{}
		for _, name := range names {
			f, ok := lookupField(name)
			if !ok {
				t.Errorf("%s: rpm exports a name the table lacks", name)
				continue
			}
			if f.tag >= 61 && f.tag <= 64 {
				continue // region tags
			}
			v, err := p.Field(name)
			if errors.Is(err, ErrUnsupportedField) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			checked = append(checked, name)
			want[name] = qfValue(v)
			if f.array {
				fmt.Fprintf(&qf, "[%%{%s}@@]##", name)
			} else {
				fmt.Fprintf(&qf, "%%{%s}##", name)
			}
		}
		out := runTool(t, "rpm", "-qp", "--nosignature", "--nodigest", "--qf", qf.String(), path)
		got := strings.Split(out, "##")
		if len(got) != len(checked)+1 {
			t.Fatalf("%s: %d values from rpm for %d tags", file, len(got)-1, len(checked))
		}
		for i, name := range checked {
			if got[i] != want[name] {
				t.Errorf("%s %s: Field %q, rpm %q", file, name, want[name], got[i])
			}
		}
	}
}

func TestFieldErrors(t *testing.T) {
	p, err := ReadFile(filepath.Join("testdata", "tiny-1.2-3.x86_64.rpm"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Field("NOSUCHTAG"); !errors.Is(err, ErrNoSuchField) {
		t.Errorf("NOSUCHTAG: %v", err)
	}
	if _, err := p.Field("TRIGGERCONDS"); !errors.Is(err, ErrUnsupportedField) {
		t.Errorf("TRIGGERCONDS: %v", err)
	}
	// a missing array tag is an empty list, a missing scalar one nil
	if v, _ := p.Field("CHANGELOGTIME"); v == nil || len(v.([]any)) != 0 {
		t.Errorf("CHANGELOGTIME: %#v", v)
	}
	if v, _ := p.Field("DISTTAG"); v != nil {
		t.Errorf("DISTTAG: %#v", v)
	}
	// the signature's MD5 is merged in as SIGMD5
	if v, _ := p.Field("SIGMD5"); !bytes.Equal(v.([]byte), p.SigMD5) {
		t.Errorf("SIGMD5: %x", v)
	}
	for tag, want := range map[int]string{1000: "NAME", 1047: "PROVIDES", 1035: "FILEMD5S", 261: "SIGMD5", 1054: "CONFLICTS", 4: ""} {
		if got := FieldName(tag); got != want {
			t.Errorf("FieldName(%d) = %q, want %q", tag, got, want)
		}
	}
	tags := p.MergedTags()
	if len(tags) == 0 || tags[0] == TagHeaderImmutable {
		t.Errorf("MergedTags: %v", tags)
	}
}

// FuzzFields reads every exported field of whatever Read accepts.
func FuzzFields(f *testing.F) {
	fuzzSetup(f)
	fieldsOnce.Do(loadFields)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		for name := range fieldNames {
			if _, err := p.Field(name); err != nil && !errors.Is(err, ErrUnsupportedField) {
				t.Fatalf("%s: %v", name, err)
			}
		}
		for _, tag := range p.MergedTags() {
			if _, err := p.TagValue(tag); err != nil && !errors.Is(err, ErrUnsupportedField) {
				t.Fatalf("tag %d: %v", tag, err)
			}
		}
	})
}
