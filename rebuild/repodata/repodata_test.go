package repodata_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/rebuild/internal/repotest"
	"github.com/gokoji/gokoji/rebuild/repodata"
)

var fooBar = []repotest.Pkg{
	{NVR: "foo-1.2-3", Requires: []string{"bar >= 2", "/bin/sh"}, Provides: []string{"foo-libs = 1.2"},
		Conflicts: []string{"old < 1"}, Obsoletes: []string{"oldfoo <= 0.9"},
		Files: []string{"/usr/bin/foo", "/etc/foo.conf", "/usr/share/foo/data"}},
	{NVR: "bar-2-1", Arch: "x86_64", Provides: []string{"/bin/sh"}},
}

func TestLoadCreaterepo(t *testing.T) {
	for _, sum := range []string{"sha256", "sha1", "sha512", "md5"} {
		t.Run(sum, func(t *testing.T) {
			dir := repotest.Make(t, fooBar, "--checksum", sum)
			repo, err := (&repodata.Loader{}).Load(context.Background(), dir)
			require.NoError(t, err)
			require.Equal(t, sum, repo.MD.Find("primary").Checksum.Type)
			checkFooBar(t, repo.Packages)
		})
	}
}

func checkFooBar(t *testing.T, pkgs []*repodata.Package) {
	require.Len(t, pkgs, 2)
	bar, foo := pkgs[0], pkgs[1]
	if bar.Name != "bar" {
		bar, foo = foo, bar
	}
	require.Equal(t, "foo-1.2-3.noarch", foo.NEVRA())
	require.Equal(t, "foo-1.2-3.src.rpm", foo.SourceRPM)
	require.Equal(t, "foo-1.2-3.noarch.rpm", foo.Location)
	require.Contains(t, foo.Provides, repodata.Entry{Name: "foo", Flags: repodata.EQ, EVR: repodata.EVR{Version: "1.2", Release: "3"}})
	require.Contains(t, foo.Provides, repodata.Entry{Name: "foo-libs", Flags: repodata.EQ, EVR: repodata.EVR{Version: "1.2"}})
	require.Contains(t, foo.Requires, repodata.Entry{Name: "bar", Flags: repodata.GE, EVR: repodata.EVR{Version: "2"}})
	require.Contains(t, foo.Requires, repodata.Entry{Name: "/bin/sh"})
	require.Equal(t, []repodata.Entry{{Name: "old", Flags: repodata.LT, EVR: repodata.EVR{Version: "1"}}}, foo.Conflicts)
	require.Equal(t, []repodata.Entry{{Name: "oldfoo", Flags: repodata.LE, EVR: repodata.EVR{Version: "0.9"}}}, foo.Obsoletes)
	// createrepo keeps /etc and bin paths in primary, the rest in
	// filelists.
	require.ElementsMatch(t, []string{"/etc/foo.conf", "/usr/bin/foo"}, foo.Files)
	require.Equal(t, "x86_64", bar.Arch)
	require.Equal(t, "bar >= 2", foo.Requires[slicesIndex(foo.Requires, "bar")].String())
}

func slicesIndex(es []repodata.Entry, name string) int {
	for i, e := range es {
		if e.Name == name {
			return i
		}
	}
	return -1
}

func TestLoadCompressions(t *testing.T) {
	for _, c := range []string{"bz2", "xz"} {
		t.Run(c, func(t *testing.T) {
			dir := repotest.Make(t, fooBar, "--general-compress-type", c)
			repo, err := (&repodata.Loader{}).Load(context.Background(), "file://"+dir)
			if c == "xz" {
				var ce *repodata.CompressionError
				require.ErrorAs(t, err, &ce)
				require.Equal(t, "xz", ce.Compression)
				return
			}
			require.NoError(t, err)
			checkFooBar(t, repo.Packages)
		})
	}
	// zstd, which this createrepo_c cannot write, by its magic number.
	dir := repotest.Make(t, fooBar, "--simple-md-filenames", "--checksum", "sha256")
	primary := filepath.Join(dir, "repodata", "primary.xml.gz")
	require.NoError(t, os.WriteFile(primary, []byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0}, 0o644))
	_, err := (&repodata.Loader{}).Load(context.Background(), dir)
	var ce *repodata.CompressionError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "zstd", ce.Compression)
}

func TestLoadHTTP(t *testing.T) {
	dir := repotest.Make(t, fooBar)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	repo, err := (&repodata.Loader{HTTP: srv.Client()}).Load(context.Background(), srv.URL+"/")
	require.NoError(t, err)
	checkFooBar(t, repo.Packages)

	_, err = (&repodata.Loader{}).Load(context.Background(), srv.URL+"/missing")
	require.ErrorContains(t, err, "404 Not Found")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = (&repodata.Loader{HTTP: srv.Client()}).Load(ctx, srv.URL)
	require.ErrorIs(t, err, context.Canceled)
	_, err = (&repodata.Loader{}).Load(ctx, dir)
	require.ErrorIs(t, err, context.Canceled)
}

func TestLoadBadChecksum(t *testing.T) {
	dir := repotest.Make(t, fooBar, "--simple-md-filenames")
	md := filepath.Join(dir, "repodata", "repomd.xml")
	b, err := os.ReadFile(md)
	require.NoError(t, err)
	sum := regexp.MustCompile(`(<data type="primary">\s*<checksum type="sha256">)([0-9a-f]+)`)
	require.NoError(t, os.WriteFile(md, sum.ReplaceAll(b, []byte("${1}"+strings.Repeat("0", 64))), 0o644))
	_, err = (&repodata.Loader{}).Load(context.Background(), dir)
	var cerr *repodata.ChecksumError
	require.ErrorAs(t, err, &cerr)
	require.Equal(t, strings.Repeat("0", 64), cerr.Want)

	require.NoError(t, os.WriteFile(md, sum.ReplaceAll(bytes.Replace(b, []byte(`type="sha256"`), []byte(`type="crc32"`), 1), []byte("${1}")), 0o644))
	_, err = (&repodata.Loader{}).Load(context.Background(), dir)
	require.ErrorAs(t, err, &cerr)
	require.Equal(t, "crc32", cerr.Type)
}

const primaryXML = `<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="2">
<package type="rpm"><name>a</name><arch>x86_64</arch><version epoch="2" ver="1.0" rel="1.fc44"/>
<format><rpm:sourcerpm>a-1.0-1.fc44.src.rpm</rpm:sourcerpm>
<rpm:requires><rpm:entry name="b" flags="LT" epoch="0" ver="3"/><rpm:entry name="c" pre="1"/></rpm:requires>
<file>/usr/bin/a</file></format></package>
<package type="rpm"><name>b</name><arch>noarch</arch><version epoch="0" ver="2" rel="1"/></package>
</metadata>`

func TestParsePrimary(t *testing.T) {
	var got []*repodata.Package
	err := repodata.ParsePrimary(strings.NewReader(primaryXML), "primary.xml", repodata.Limits{}, func(p *repodata.Package) error {
		got = append(got, p)
		return nil
	})
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, "a-2:1.0-1.fc44.x86_64", got[0].NEVRA())
	require.Equal(t, []repodata.Entry{{Name: "b", Flags: repodata.LT, EVR: repodata.EVR{Version: "3"}}, {Name: "c", Pre: true}},
		got[0].Requires)

	for _, tc := range []struct {
		name   string
		input  string
		limits repodata.Limits
		want   any
	}{
		{"truncated", primaryXML[:200], repodata.Limits{}, new(*repodata.FormatError)},
		{"not primary", "<repomd/>", repodata.Limits{}, new(*repodata.FormatError)},
		{"bad flags", strings.Replace(primaryXML, `"LT"`, `"XX"`, 1), repodata.Limits{}, new(*repodata.FormatError)},
		{"bad epoch", strings.Replace(primaryXML, `epoch="2"`, `epoch="-1"`, 1), repodata.Limits{}, new(*repodata.FormatError)},
		{"no name", strings.Replace(primaryXML, `<name>b</name>`, ``, 1), repodata.Limits{}, new(*repodata.FormatError)},
		{"trailing", primaryXML + "<x/>", repodata.Limits{}, new(*repodata.FormatError)},
		{"packages", primaryXML, repodata.Limits{Packages: 1}, new(*repodata.LimitError)},
		{"entries", primaryXML, repodata.Limits{Entries: 2}, new(*repodata.LimitError)},
		{"bytes", primaryXML, repodata.Limits{PrimaryBytes: 300}, new(*repodata.LimitError)},
	} {
		err := repodata.ParsePrimary(strings.NewReader(tc.input), "primary.xml", tc.limits, func(*repodata.Package) error { return nil })
		require.ErrorAs(t, err, tc.want, tc.name)
	}
	stop := errors.New("stop")
	err = repodata.ParsePrimary(strings.NewReader(primaryXML), "primary.xml", repodata.Limits{}, func(*repodata.Package) error { return stop })
	require.ErrorIs(t, err, stop)
}

func TestParseRepoMD(t *testing.T) {
	dir := repotest.Make(t, fooBar)
	f, err := os.Open(filepath.Join(dir, "repodata", "repomd.xml"))
	require.NoError(t, err)
	defer f.Close()
	md, err := repodata.ParseRepoMD(f, repodata.Limits{})
	require.NoError(t, err)
	p := md.Find("primary")
	require.NotNil(t, p)
	require.True(t, strings.HasPrefix(p.Href, "repodata/") && strings.HasSuffix(p.Href, "-primary.xml.gz"), p.Href)
	require.Len(t, p.Checksum.Value, 64)
	require.Positive(t, p.Size)
	require.Positive(t, p.OpenSize)
	require.NotEmpty(t, md.Revision)
	require.Nil(t, md.Find("nothing"))

	for _, bad := range []string{"", "<repomd><data type=\"primary\"></data></repomd>",
		"<repomd><data type=\"primary\"><size>x</size></data></repomd>", "<metadata/>"} {
		_, err := repodata.ParseRepoMD(strings.NewReader(bad), repodata.Limits{})
		var fe *repodata.FormatError
		require.ErrorAs(t, err, &fe, bad)
	}
	_, err = repodata.ParseRepoMD(strings.NewReader("<repomd>"+strings.Repeat(" ", 100)+"</repomd>"), repodata.Limits{RepoMDBytes: 50})
	var le *repodata.LimitError
	require.ErrorAs(t, err, &le)
}

func TestPrimaryOutsideRepo(t *testing.T) {
	dir := repotest.Make(t, fooBar, "--simple-md-filenames")
	md := filepath.Join(dir, "repodata", "repomd.xml")
	b, err := os.ReadFile(md)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(md, bytes.Replace(b, []byte(`href="repodata/primary.xml.gz"`), []byte(`href="../../etc/passwd"`), 1), 0o644))
	_, err = (&repodata.Loader{}).Load(context.Background(), dir)
	var fe *repodata.FormatError
	require.ErrorAs(t, err, &fe)
}

func TestFlagsAndEVR(t *testing.T) {
	for op, want := range map[string]repodata.Flags{"": 0, "<": repodata.LT, "<=": repodata.LE, "=": repodata.EQ,
		">=": repodata.GE, ">": repodata.GT} {
		f, ok := repodata.ParseFlags(op)
		require.True(t, ok)
		require.Equal(t, want, f)
		require.Equal(t, op, f.String())
	}
	_, ok := repodata.ParseFlags("~=")
	require.False(t, ok)
	e, err := repodata.ParseEVR("3:1.2-4.fc44")
	require.NoError(t, err)
	require.Equal(t, repodata.EVR{Epoch: 3, Version: "1.2", Release: "4.fc44"}, e)
	require.Equal(t, "3:1.2-4.fc44", e.String())
	e, err = repodata.ParseEVR("1.2")
	require.NoError(t, err)
	require.Equal(t, repodata.EVR{Version: "1.2"}, e)
	_, err = repodata.ParseEVR("x:1")
	require.Error(t, err)
}
