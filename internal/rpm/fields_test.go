package rpm

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
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
// read by Field from the testdata packages (triggersRPM with every kind
// of trigger among them), with rpm -qp --qf.
func TestFieldsMatchRPM(t *testing.T) {
	names := strings.Fields(runTool(t, "rpm", "--querytags"))
	if len(names) < 200 {
		t.Fatalf("rpm --querytags: %d names", len(names))
	}
	for _, file := range append(testdataRPMs[:len(testdataRPMs):len(testdataRPMs)], triggersRPM) {
		path := filepath.Join("testdata", file)
		p, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		checkFieldsMatchRPM(t, p, path, names)
	}
}

// checkFieldsMatchRPM compares the named fields of p, read from path, with
// rpm -qp --qf.
func checkFieldsMatchRPM(t *testing.T, p *Package, path string, names []string) {
	t.Helper()
	file := filepath.Base(path)
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
		if err != nil {
			t.Fatalf("%s %s: %v", file, name, err)
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

// triggerWant are the trigger extensions of triggers.spec: rpmbuild sorts
// each kind's names, and a script's conditions follow that order.
var triggerWant = map[string][]any{
	"TRIGGERCONDS":          {"bash", "bar >= 1:3.1-2, baz, foo < 2.0", "qux = 4", "corge <= 2:1, quux > 0.5", "early"},
	"TRIGGERTYPE":           {"in", "in", "un", "postun", "prein"},
	"FILETRIGGERCONDS":      {"/usr/lib, /usr/share", "/etc", "/opt"},
	"FILETRIGGERTYPE":       {"in", "un", "postun"},
	"TRANSFILETRIGGERCONDS": {"/usr/lib64", "/var/x, /var/y", "/srv"},
	"TRANSFILETRIGGERTYPE":  {"in", "un", "postun"},
}

// TestTriggerFields builds triggers.spec with rpmbuild and reads the
// trigger extensions of the package (and of the committed triggersRPM)
// by Field, element by element as rpm -qp --qf '[%{TAG}\n]' prints them;
// the SRPM has none. Every other field of both is checked against rpm
// too.
func TestTriggerFields(t *testing.T) {
	names := strings.Fields(runTool(t, "rpm", "--querytags"))
	var bin, src string
	for _, f := range rpmbuild(t, "testdata/triggers.spec", "--define", "_binary_payload w9.gzdio") {
		switch filepath.Base(f) {
		case triggersRPM:
			bin = f
		case "triggers-1.0-1.src.rpm":
			src = f
		}
	}
	if bin == "" || src == "" {
		t.Fatal("rpmbuild wrote no triggers package")
	}
	for _, path := range []string{bin, filepath.Join("testdata", triggersRPM), src} {
		p, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range triggerWant {
			if path == src {
				want = []any{}
			}
			got, err := p.Field(name)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s: %q, want %q", path, name, got, want)
			}
			var rpmSays []any
			for _, line := range strings.Split(rpmQuery(t, path, "[%{"+name+"}\n]"), "\n") {
				if line != "" {
					rpmSays = append(rpmSays, line)
				}
			}
			if len(rpmSays) != len(want) || len(want) > 0 && !reflect.DeepEqual(rpmSays, want) {
				t.Errorf("%s %s: rpm says %q, want %q", path, name, rpmSays, want)
			}
		}
		checkFieldsMatchRPM(t, p, path, names)
	}
}

// headerOf is a Header of the entries, in that order.
func headerOf(entries ...entry) *Header {
	h := &Header{index: map[int]int{}}
	for _, e := range entries {
		h.index[e.tag] = len(h.entries)
		h.entries = append(h.entries, e)
	}
	return h
}

// TestTriggerFieldsMalformed reads trigger extensions of headers rpmbuild
// would not write: names pointing at no script or past the last one,
// missing flags and versions, flags not of INT32 type, missing tags.
func TestTriggerFieldsMalformed(t *testing.T) {
	scripts := entry{tag: 1065, typ: TypeStringArray, val: []string{"s0", "s1", "s2"}}
	names := entry{tag: 1066, typ: TypeStringArray, val: []string{"a", "b", "c", "d"}}
	index := entry{tag: 1069, typ: TypeInt32, val: []int64{0, 0, 7, 2}}
	versions := entry{tag: 1067, typ: TypeStringArray, val: []string{"1.0"}}
	flags := entry{tag: 1068, typ: TypeInt32, val: []int64{int64(DepLess | DepGreater), int64(DepTriggerUn | DepEqual)}}
	for _, tc := range []struct {
		what         string
		h            *Header
		conds, type_ []any
	}{
		{"short flags and versions", headerOf(scripts, names, index, versions, flags),
			[]any{"a <> 1.0, b = ", nil, "d"}, []any{"", nil, nil}},
		{"INT16 flags", headerOf(scripts, names, index, versions, entry{tag: 1068, typ: TypeInt16, val: []int64{8, 8, 8, 8}}),
			[]any{"a, b", nil, "d"}, []any{"", nil, ""}},
		{"no names", headerOf(scripts, index, flags), []any{}, []any{"", nil, nil}},
		{"no index", headerOf(scripts, names, flags), []any{nil, nil, nil}, []any{}},
		{"no scripts", headerOf(names, index, flags), []any{}, []any{}},
		{"a STRING name", headerOf(scripts, entry{tag: 1066, typ: TypeString, val: "only"}, index),
			[]any{"only", nil, nil}, []any{nil, nil, nil}},
	} {
		p := &Package{Header: tc.h}
		for name, want := range map[string][]any{"TRIGGERCONDS": tc.conds, "TRIGGERTYPE": tc.type_} {
			got, err := p.Field(name)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s: %#v, %v; want %#v", tc.what, name, got, err, want)
			}
		}
	}
}

// TestContextFields checks FSCONTEXTS and RECONTEXTS against rpm: the
// tags as stored (rpm 4.18 computes nothing for them, whatever the host's
// SELinux policy), so [] and no output for a package without them.
func TestContextFields(t *testing.T) {
	dir := t.TempDir()
	plain := writeSpec(t, dir, sampleSpec())
	fs := []string{"system_u:object_r:etc_t:s0", "<<none>>"}
	re := []string{"/etc(/.*)?\tsystem_u:object_r:etc_t:s0"}
	var buf bytes.Buffer
	s := sampleSpec()
	s.Name = "contexts"
	err := write(&buf, s, []entry{{tag: 1148, typ: TypeStringArray, val: fs}, {tag: 1149, typ: TypeStringArray, val: re}})
	if err != nil {
		t.Fatal(err)
	}
	stored := filepath.Join(dir, "contexts.rpm")
	if err := os.WriteFile(stored, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path   string
		fs, re []string
	}{{plain, nil, nil}, {stored, fs, re}} {
		p, err := ReadFile(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string][]string{"FSCONTEXTS": tc.fs, "RECONTEXTS": tc.re} {
			wantAny := []any{}
			for _, v := range want {
				wantAny = append(wantAny, v)
			}
			if got, err := p.Field(name); err != nil || !reflect.DeepEqual(got, wantAny) {
				t.Errorf("%s %s: %#v, %v; want %#v", tc.path, name, got, err, wantAny)
			}
			var lines string
			for _, v := range want {
				lines += v + "\n"
			}
			if got := rpmQuery(t, tc.path, "[%{"+name+"}\n]"); got != lines {
				t.Errorf("%s %s: rpm says %q, want %q", tc.path, name, got, lines)
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
	// every field of the table is answered, extensions included
	fieldsOnce.Do(loadFields)
	for name := range fieldNames {
		if _, err := p.Field(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
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

// FuzzFields reads every exported field of whatever Read accepts, each
// without error (every extension is computed).
func FuzzFields(f *testing.F) {
	fuzzSetup(f)
	fieldsOnce.Do(loadFields)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		for name := range fieldNames {
			if _, err := p.Field(name); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		for _, tag := range p.MergedTags() {
			if _, err := p.TagValue(tag); err != nil {
				t.Fatalf("tag %d: %v", tag, err)
			}
		}
	})
}
