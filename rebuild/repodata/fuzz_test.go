package repodata_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gokoji/gokoji/rebuild/repodata"
)

// typed reports whether err is one of the package's errors.
func typed(err error) bool {
	var fe *repodata.FormatError
	var le *repodata.LimitError
	return errors.As(err, &fe) || errors.As(err, &le)
}

func FuzzParsePrimary(f *testing.F) {
	f.Add(primaryXML)
	f.Add(`<metadata><package><name>a</name><arch>noarch</arch><version ver="1"/><format><file>/x</file></format></package></metadata>`)
	f.Add(`<metadata><package><format><format><rpm:provides><rpm:entry name="a" flags="GE" epoch="9999999999"/>`)
	f.Fuzz(func(t *testing.T, in string) {
		n := 0
		err := repodata.ParsePrimary(strings.NewReader(in), "primary.xml", repodata.Limits{PrimaryBytes: 1 << 16, Packages: 50, Entries: 100},
			func(p *repodata.Package) error {
				if p.Name == "" || p.Arch == "" || p.EVR.Version == "" {
					t.Fatalf("incomplete package %+v", p)
				}
				n++
				return nil
			})
		if err != nil && !typed(err) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
		if n > 50 {
			t.Fatalf("%d packages over the limit", n)
		}
	})
}

func FuzzParseRepoMD(f *testing.F) {
	f.Add(`<repomd><revision>1</revision><data type="primary"><checksum type="sha256">AB</checksum><location href="repodata/p.xml.gz"/><size>10</size></data></repomd>`)
	f.Add(`<repomd><data type="primary"><open-size>-1</open-size></data></repomd>`)
	f.Fuzz(func(t *testing.T, in string) {
		md, err := repodata.ParseRepoMD(strings.NewReader(in), repodata.Limits{RepoMDBytes: 1 << 14})
		if err != nil {
			if !typed(err) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		for _, d := range md.Data {
			if d.Href == "" || d.Size < 0 || d.OpenSize < 0 {
				t.Fatalf("bad data %+v", d)
			}
		}
	})
}
