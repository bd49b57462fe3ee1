package koji

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pyConfResult is configparser_peer.py's answer for one list of files.
type pyConfResult struct {
	Error    *string                  `json:"error"`
	Sections map[string]pyConfSection `json:"sections"`
}

type pyConfSection struct {
	Items [][2]string    `json:"items"`
	Error string         `json:"error"`
	Typed map[string]any `json:"typed"` // bool, decimal string, or nil for a ValueError
}

func pyConfRun(t *testing.T, stdin []byte, arg string) []byte {
	t.Helper()
	python := testenv.Command(t, "python3")
	script, err := filepath.Abs(filepath.Join("testdata", "profiles", "configparser_peer.py"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, script, arg)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "PYTHONIOENCODING=utf-8")
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "configparser_peer.py %s: %s", arg, stderr.String())
	return stdout.Bytes()
}

// pyConfParse has Python read each list of files into one ConfigParser.
func pyConfParse(t *testing.T, cases [][]string) []pyConfResult {
	t.Helper()
	type pyCase struct {
		Files []string `json:"files"`
	}
	req := struct {
		Cases []pyCase `json:"cases"`
	}{}
	for _, files := range cases {
		req.Cases = append(req.Cases, pyCase{Files: files})
	}
	in, err := json.Marshal(req)
	require.NoError(t, err)
	var out []pyConfResult
	require.NoError(t, json.Unmarshal(pyConfRun(t, in, "parse"), &out))
	require.Len(t, out, len(cases))
	return out
}

// confCompareWithPython checks that reading each list of files gives what
// Python's configparser gives: the same error or none, the same sections,
// the same interpolated items in the same order or an interpolation error
// for both, and for the options koji types, the same booleans and
// integers. It returns how many lists both read without error.
func confCompareWithPython(t *testing.T, cases [][]string, show func(i int) string) (ok int) {
	t.Helper()
	py := pyConfParse(t, cases)
	for i, files := range cases {
		srcs := make([]confFileData, len(files))
		for j, f := range files {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			srcs[j] = confFileData{f, data}
		}
		set, err := parseConf(srcs)
		what := func() string { return fmt.Sprintf("case %d:\n%s", i, show(i)) }
		if py[i].Error != nil || err != nil {
			if (py[i].Error != nil) != (err != nil) {
				t.Errorf("%s\nPython error: %v\nGo error: %v", what(), confStrOrNil(py[i].Error), err)
			}
			continue
		}
		ok++
		var pyNames []string
		for name := range py[i].Sections {
			pyNames = append(pyNames, name)
		}
		sort.Strings(pyNames)
		if !assert.Equal(t, pyNames, set.sectionNames(), "sections; %s", what()) {
			continue
		}
		for _, name := range pyNames {
			want := py[i].Sections[name]
			items, err := set.items(name)
			if want.Error != "" || err != nil {
				if (want.Error != "") != (err != nil) {
					t.Errorf("[%s]: Python error %q, Go error %v; %s", name, want.Error, err, what())
				}
				continue
			}
			got := make([][2]string, len(items))
			for j, it := range items {
				got[j] = [2]string{it.name, it.value}
			}
			if len(want.Items) == 0 {
				want.Items = [][2]string{}
			}
			if !assert.Equal(t, want.Items, got, "[%s] items; %s", name, what()) {
				continue
			}
			for _, it := range items {
				pv, typed := want.Typed[it.name]
				switch {
				case !typed:
				case confBoolOptions[it.name]:
					b, err := confParseBool(it.value)
					if pv == nil {
						assert.Error(t, err, "[%s] %s = %q: Python's getboolean fails; %s", name, it.name, it.value, what())
					} else if assert.NoError(t, err, "[%s] %s = %q; %s", name, it.name, it.value, what()) {
						assert.Equal(t, pv, b, "[%s] %s = %q; %s", name, it.name, it.value, what())
					}
				case confIntOptions[it.name]:
					n, err := confParseInt(it.value)
					if pv == nil {
						assert.Error(t, err, "[%s] %s = %q: Python's int() fails; %s", name, it.name, it.value, what())
					} else if !errors.Is(err, strconv.ErrRange) && assert.NoError(t, err, "[%s] %s = %q; %s", name, it.name, it.value, what()) {
						assert.Equal(t, pv, strconv.FormatInt(n, 10), "[%s] %s = %q; %s", name, it.name, it.value, what())
					}
				}
			}
		}
	}
	return ok
}

func confStrOrNil(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// TestProfileMatchesConfigParser compares the reader with Python's
// configparser on realistic setups of several files.
func TestProfileMatchesConfigParser(t *testing.T) {
	testenv.Command(t, "python3")
	root, err := filepath.Abs(filepath.Join("testdata", "profiles", "tree"))
	require.NoError(t, err)
	treeFiles, err := confFiles(confLocations{sysDir: filepath.Join(root, "etc"), home: filepath.Join(root, "home")}.sources(""))
	require.NoError(t, err)
	require.Len(t, treeFiles, 5)

	c := newConfTree(t)
	setups := [][]struct{ name, text string }{
		{ // [DEFAULT] across files, interpolation in both directions, overrides.
			{"a.conf", "[DEFAULT]\nhub = koji.example.com\nweburl = https://%(hub)s/koji\nMax_Retries = 3\n\n[koji]\nserver = https://%(HUB)s/kojihub\n"},
			{"b.conf", "[koji]\nhub = koji2.example.com\nmax_retries = 4\nDebug = On\n\n[stg]\nserver = https://%(hub)s/stg\n"},
			{"c.conf", "[DEFAULT]\nhub = default.example.com\nanon_retry = TRUE\n[stg]\nSERVER : %(weburl)s/../kojihub\n"},
		},
		{ // Case-differing names, %%, quotes, comments, continuation lines.
			{"a.conf", "# comment\n[koji]\nServer = https://h/kojihub  # not a comment\nTOPURL = https://h/100%%\nprincipal = \"me@EXAMPLE.COM\"\nplugin_paths = /a:\n  /b\n\n  /c\n"},
			{"b.conf", "[koji]\nserver = https://h2/kojihub\r\nkeytab = `k`\r\ntimeout = 1_200\r\npoll_interval = ٥\r\n"},
		},
		{ // Interpolation errors and reference chains of 9, 10 and 11.
			{"a.conf", "[ok]\nx = %(a1)s\n" + confChain(9) + "[deep]\nx = %(a1)s\n" + confChain(10) + "[deeper]\nx = %(a1)s\n" + confChain(11) +
				"[missing]\nx = %(nope)s\n[syntax]\nx = 5%\n[syntax2]\nx = %(y\n"},
		},
		{ // Typed values Python accepts or refuses.
			{"a.conf", "[t]\ndebug = yes\nanon_retry = 0\nno_ssl_verify = off\nforce_auth = On\nuse_fast_upload = nope\nmax_retries = -3\nretry_interval = +5\ntimeout = 0x10\npyver = ３\nauth_timeout = 1__0\n"},
		},
		{ // Errors: a duplicate option in one file; text before the first header.
			{"a.conf", "[koji]\nserver = a\n"},
			{"b.conf", "[koji]\nserver = b\nSERVER = c\n"},
		},
		{{"a.conf", "server = a\n[koji]\n"}},
		{{"a.conf", "\ufeff[koji]\nserver = a\n"}},
		{{"a.conf", "[koji]\nserver = \xe9\n"}},
	}
	cases := [][]string{treeFiles}
	for i, setup := range setups {
		var files []string
		for _, f := range setup {
			files = append(files, c.write(fmt.Sprintf("setup%d/%s", i, f.name), f.text))
		}
		cases = append(cases, files)
	}
	show := func(i int) string {
		var b strings.Builder
		for _, f := range cases[i] {
			fmt.Fprintf(&b, "--- %s\n%s", f, confMustRead(t, f))
		}
		return b.String()
	}
	ok := confCompareWithPython(t, cases, show)
	assert.Equal(t, 5, ok, "setups read without error")

	// Spot-check the tree's answer itself, so a common mistake of both
	// sides cannot hide.
	py := pyConfParse(t, [][]string{treeFiles})[0]
	assert.Contains(t, py.Sections["stg"].Items, [2]string{"server", "https://koji.stg.fedoraproject.org/kojihub"})
	assert.Contains(t, py.Sections["fedora"].Items, [2]string{"max_retries", "3"})
}

// confChain is options a1 ... an, each referring to the next, an to "end".
func confChain(n int) string {
	var b strings.Builder
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "a%d = %%(a%d)s\n", i, i+1)
	}
	fmt.Fprintf(&b, "a%d = end\n", n)
	return b.String()
}

// TestProfileConfigParserRandom compares the reader with Python's
// configparser on random files made of the lines where INI parsers
// disagree: comments, quotes, continuation lines, odd headers and names,
// interpolation, every line ending.
func TestProfileConfigParserRandom(t *testing.T) {
	testenv.Command(t, "python3")
	const n = 500
	rng := rand.New(rand.NewPCG(1, 2))
	c := newConfTree(t)
	var cases [][]string
	for i := range n {
		var files []string
		for j := range 1 + rng.IntN(3) {
			files = append(files, c.write(fmt.Sprintf("r%d/%d.conf", i, j), confRandomFile(rng)))
		}
		cases = append(cases, files)
	}
	show := func(i int) string {
		var b strings.Builder
		for _, f := range cases[i] {
			fmt.Fprintf(&b, "--- %s\n%q\n", f, confMustRead(t, f))
		}
		return b.String()
	}
	ok := confCompareWithPython(t, cases, show)
	t.Logf("%d of %d random setups read without error on both sides", ok, n)
	assert.Greater(t, ok, n/4, "too few setups without errors to compare values")
}

func confRandomFile(rng *rand.Rand) string {
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	headers := []string{"[koji]", "[stg]", "[DEFAULT]", "[Koji]", "[ koji ]", "[a.b]", "[x]y]", "[koji] # c", "  [stg]", "[t]", "[default]", "[DEFAULT]"}
	badHeaders := []string{"[]", "[", "[k = v"}
	names := []string{"server", "Server", "SERVER", "weburl", "topdir", "max_retries", "timeout", "debug", "no_ssl_verify",
		"a", "b", "A", "x y", "-", `"q"`, "`k`", "[k", "é", "É", "İx", "pyver", "anon_retry", "host", "Host", "poll_interval",
		"auth_timeout", "upload_blocksize", "force_auth", "krb_rdns", "topurl", "cert", "principal", "keytab"}
	delims := []string{"=", ":", " = ", " : ", "\t=\t", "= ", " :", "=:"}
	values := []string{"", "1", "yes", " On ", "off", "TRUE", "2", "http://h/%%20x", "%(server)s/x", "%(SERVER)s", "%(host)s",
		"%(nope)s", "%x", "50%", "a # b", "a ; b", `"quoted"`, "'q'", `"""tri`, `"""`, "`bt`", `x\`, "١٢", "1_0", "1__0",
		"_1", "0x10", "-5", "+7", " 42 ", "\x1cv\x1c", "\u00a0w\u00a0", "é", "%(a)s", "%(b)s", "v=w:x", "[not a section]", "%(x)d", "%(A)s",
		"%(x y)s", "%(É)s", "%(İx)s", "\x85n\u2028", "a\x00b", "\x0bv\x0c", "%(server)s%(host)s%%"}
	indents := []string{"", "", "", " ", "  ", "\t"}
	var lines []string
	if rng.IntN(20) > 0 {
		lines = append(lines, pick(headers...))
	}
	for range 3 + rng.IntN(10) {
		switch r := rng.IntN(20); {
		case r < 11:
			lines = append(lines, pick(indents...)+pick(names...)+pick(delims...)+pick(values...))
		case r < 13:
			if rng.IntN(10) == 0 {
				lines = append(lines, pick(badHeaders...))
			} else {
				lines = append(lines, pick(headers...))
			}
		case r < 15:
			lines = append(lines, pick("# c", "; c", "  # indented", "#", ";x=y", "\t;"))
		case r < 17:
			lines = append(lines, pick("", "", "   ", "\t", "\x1c"))
		default:
			lines = append(lines, pick("    more", "\t\tmore", "        [x]", "     k = v", "   %(a)s", "  # c"))
		}
	}
	eol := pick("\n", "\n", "\n", "\r\n", "\r")
	text := strings.Join(lines, eol)
	if rng.IntN(2) == 0 {
		text += eol
	}
	switch rng.IntN(50) {
	case 0:
		text = "\ufeff" + text
	case 1:
		text += "x = \xff\n"
	}
	return text
}

// TestConfCharsMatchPython checks the helpers that mirror Python's
// str.isspace and int() digits against Python itself.
func TestConfCharsMatchPython(t *testing.T) {
	var py struct {
		Space   []rune         `json:"space"`
		Digits  map[string]int `json:"digits"`
		Version string         `json:"unidata_version"`
	}
	require.NoError(t, json.Unmarshal(pyConfRun(t, nil, "chars"), &py))
	var space []rune
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if confIsSpace(r) {
			space = append(space, r)
		}
	}
	assert.Equal(t, py.Space, space, "str.isspace code points (Python's Unicode %s, Go's %s)", py.Version, unicode.Version)
	checked := 0
	for cp, want := range py.Digits {
		n, err := strconv.Atoi(cp)
		require.NoError(t, err)
		r := rune(n)
		if !unicode.IsDigit(r) {
			t.Errorf("U+%04X: Python's decimal %d, not a digit in Go", r, want)
			continue
		}
		assert.Equal(t, want, confDigitValue(r), "U+%04X", r)
		checked++
	}
	t.Logf("%d decimal digits agree (Python's Unicode %s, Go's %s)", checked, py.Version, unicode.Version)
}

// TestConfScanAgreesWithGoIni and FuzzConfScan check the premise of
// scanConf: that go-ini reads the lines it leaves in exactly as
// ConfigParser does.
func TestConfScanAgreesWithGoIni(t *testing.T) {
	for _, text := range confSeeds(t) {
		confCheckScanAgainstIni(t, []byte(text))
	}
}

func FuzzConfScan(f *testing.F) {
	for _, s := range confSeeds(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 16<<10 {
			return // go-ini is quadratic in the options of a section
		}
		confCheckScanAgainstIni(t, data)
	})
}

func confSeeds(tb testing.TB) []string {
	seeds := []string{
		"[p]\nx = a # b\n y\n[DEFAULT]\nz = \"q\"\n",
		"[p]\n\"x\" = a\n- = b\n`c` = d\ne = \"\"\"f\ng = `h`\n[i = j\n",
		"[p]\r\nx = a\\\r\ny : b\rz=\x1cc\n",
		"[a] b ]\nx = 1\n[DEFAULT]\n  y = 2\n    z\n",
	}
	for _, dir := range []string{"testdata/profiles", "testdata/profiles/tree/etc", "testdata/profiles/tree/etc/koji.conf.d", "testdata/profiles/tree/home/.koji", "testdata/profiles/tree/home/.koji/config.d"} {
		entries, err := os.ReadDir(dir)
		require.NoError(tb, err)
		for _, e := range entries {
			if e.Type().IsRegular() && !strings.HasSuffix(e.Name(), ".py") {
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				require.NoError(tb, err)
				seeds = append(seeds, string(b))
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		seeds = append(seeds, confRandomFile(rng))
	}
	return seeds
}

// confCheckScanAgainstIni has go-ini parse the clean text scanConf makes
// of data and checks it finds the same sections, and for every option the
// scanner left to it, the same value; and none of the others.
func confCheckScanAgainstIni(t *testing.T, data []byte) {
	scan, err := scanConf("fuzz.conf", data)
	if err != nil {
		return
	}
	f, err := confLoadIni([][]byte{scan.clean})
	if err != nil {
		t.Fatalf("go-ini refused the clean text %q of %q: %v", scan.clean, data, err)
	}
	wantSections := map[string]bool{confDefaultSection: true}
	for _, s := range scan.sections {
		wantSections[s] = true
	}
	gotSections := map[string]bool{}
	for _, s := range f.SectionStrings() {
		gotSections[s] = true
	}
	if !reflect.DeepEqual(wantSections, gotSections) {
		t.Fatalf("sections of %q: scanner %v, go-ini %v", data, wantSections, gotSections)
	}
	want := map[confKey]string{}
	for _, o := range scan.options {
		if !o.special {
			want[confKey{o.section, o.name}] = o.value
		}
	}
	got := map[confKey]string{}
	for _, sec := range f.Sections() {
		for _, k := range sec.Keys() {
			got[confKey{sec.Name(), k.Name()}] = k.Value()
		}
	}
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("options of %q (clean %q):\nscanner %q\ngo-ini  %q", data, scan.clean, want, got)
	}
}
