package koji

// Reading koji.conf files as Python's configparser does: the koji CLI
// parses them with it, so every value here must come out as it would there.

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-ini/ini"
)

// confParseBool is ConfigParser.getboolean.
func confParseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "yes", "true", "on":
		return true, nil
	case "0", "no", "false", "off":
		return false, nil
	}
	return false, strconv.ErrSyntax
}

// confParseInt is Python's int(v): surrounding whitespace, a sign, and
// decimal digits of any script, with single underscores between digits.
func confParseInt(v string) (int64, error) {
	s := strings.TrimFunc(v, confIsSpace)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	digits := make([]byte, 0, len(s)+1)
	if neg {
		digits = append(digits, '-')
	}
	prevDigit := false
	for _, r := range s {
		switch {
		case r == '_' && prevDigit:
			prevDigit = false
			continue
		case unicode.IsDigit(r):
			digits = append(digits, byte('0'+confDigitValue(r)))
			prevDigit = true
		default:
			return 0, strconv.ErrSyntax
		}
	}
	if !prevDigit {
		return 0, strconv.ErrSyntax // empty, or a trailing underscore
	}
	return strconv.ParseInt(string(digits), 10, 64)
}

// confDigitValue is the value of a decimal digit (Unicode category Nd).
// Such digits come in runs of ten, 0 to 9.
func confDigitValue(r rune) int {
	start := r
	for unicode.IsDigit(start - 1) {
		start--
	}
	return int(r-start) % 10
}

// confLower is Python's str.lower, which ConfigParser applies to option
// names: strings.ToLower but for U+0130 (İ), which Python lowers to i and
// a combining dot above. (Python's final sigma, ς for a Σ ending a word,
// is not reproduced.)
func confLower(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, "İ", "i\u0307"))
}

// confIsSpace is Python's str.isspace: Go's unicode.IsSpace plus the
// information separators U+001C to U+001F.
func confIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// A confSet is the configuration read from a list of files, as one Python
// ConfigParser holds it after reading them in order.
type confSet struct {
	file  *ini.File
	last  map[confKey]*confOption // the definition in force of each option
	order map[string][]string     // each section's options, in first-definition order
}

type confKey struct{ section, option string }

// A confOption is one option line, as ConfigParser reads it.
type confOption struct {
	path      string
	line      int
	section   string
	name      string // lower-cased
	value     string
	parts     []string // the value's lines: the first, then continuation lines
	special   bool     // go-ini would read this option otherwise; its value is set after parsing
	continued bool     // the value has continuation lines
}

// confScan is one file read as ConfigParser reads it: its options, and its
// text with only the lines go-ini reads exactly as ConfigParser does left
// in (the others blanked), for go-ini to parse.
type confScan struct {
	options  []*confOption
	sections []string // the section headers, in order
	clean    []byte
}

// confFileData is a configuration file's name and contents.
type confFileData struct {
	path string
	data []byte
}

// parseConf parses files into one configuration, later files overriding
// earlier ones option by option, as ConfigParser.read does.
func parseConf(files []confFileData) (*confSet, error) {
	set := &confSet{last: make(map[confKey]*confOption), order: make(map[string][]string)}
	var sources [][]byte
	for _, f := range files {
		scan, err := scanConf(f.path, f.data)
		if err != nil {
			return nil, err
		}
		sources = append(sources, scan.clean)
		for _, o := range scan.options {
			k := confKey{o.section, o.name}
			if _, ok := set.last[k]; !ok {
				set.order[o.section] = append(set.order[o.section], o.name)
			}
			set.last[k] = o
		}
	}
	var err error
	if set.file, err = confLoadIni(sources); err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("parsing configuration: %w", err)}
	}
	// Values go-ini cannot read as ConfigParser does are set here, where
	// the definition in force is one of them.
	for k, o := range set.last {
		if !o.special {
			continue
		}
		sec, err := set.file.GetSection(k.section)
		if err == nil {
			_, err = sec.NewKey(k.option, o.value)
		}
		if err != nil {
			return nil, &ConfigError{Path: o.path, Line: o.line, Option: o.name, Err: err}
		}
	}
	return set, nil
}

// confLoadIni has go-ini parse clean texts (see scanConf) into one
// ini.File, later ones overriding earlier ones.
func confLoadIni(sources [][]byte) (*ini.File, error) {
	opts := ini.LoadOptions{
		InsensitiveKeys:         true, // ConfigParser.optionxform lower-cases option names
		IgnoreInlineComment:     true, // "a = b # c" is "b # c"
		IgnoreContinuation:      true, // a trailing backslash is kept
		PreserveSurroundedQuote: true, // quotes are kept
		KeyValueDelimiters:      "=:",
	}
	if len(sources) == 0 {
		return ini.Empty(opts), nil
	}
	others := make([]any, len(sources)-1)
	for i, s := range sources[1:] {
		others[i] = s
	}
	return ini.LoadSources(opts, sources[0], others...)
}

// sectionNames lists the sections besides [DEFAULT], sorted.
func (c *confSet) sectionNames() []string {
	var names []string
	for _, s := range c.file.SectionStrings() {
		if s != confDefaultSection {
			names = append(names, s)
		}
	}
	sort.Strings(names)
	return names
}

// A confItem is one option of a profile, interpolated, with where its
// definition in force is.
type confItem struct {
	name, value string
	path        string
	line        int
}

// items is ConfigParser.items(section): the options of section and of
// [DEFAULT], interpolated, [DEFAULT]'s first.
func (c *confSet) items(section string) ([]confItem, error) {
	sec, err := c.file.GetSection(section)
	if section == "" || section == confDefaultSection || err != nil {
		return nil, &ConfigError{Profile: section, Err: fmt.Errorf("no configuration for profile name: %s", section)}
	}
	raw := make(map[string]string)
	var names []string
	for _, s := range []string{confDefaultSection, section} {
		values := make(map[string]string)
		if s == section {
			for _, k := range sec.Keys() {
				values[k.Name()] = k.Value()
			}
		} else if def, err := c.file.GetSection(s); err == nil {
			for _, k := range def.Keys() {
				values[k.Name()] = k.Value()
			}
		}
		for _, name := range c.order[s] {
			v, ok := values[name]
			if !ok {
				return nil, &ConfigError{Profile: section, Option: name, Err: fmt.Errorf("internal error: go-ini lost option %q of [%s]", name, s)}
			}
			if _, dup := raw[name]; !dup {
				names = append(names, name)
			}
			raw[name] = v
		}
	}
	items := make([]confItem, 0, len(names))
	for _, name := range names {
		o := c.last[confKey{section, name}]
		if o == nil {
			o = c.last[confKey{confDefaultSection, name}]
		}
		var b strings.Builder
		if err := confInterpolate(&b, name, raw[name], raw, 1); err != nil {
			return nil, &ConfigError{Path: o.path, Line: o.line, Profile: section, Option: name, Err: err}
		}
		items = append(items, confItem{name: name, value: b.String(), path: o.path, line: o.line})
	}
	return items, nil
}

var confInterpolateKey = regexp.MustCompile(`^%\(([^)]+)\)s`)

// confInterpolate is ConfigParser's BasicInterpolation: %(name)s is the
// value of option name (looked up lower-cased in vars, itself
// interpolated), %% is %, and any other % is an error.
func confInterpolate(b *strings.Builder, option, rest string, vars map[string]string, depth int) error {
	if depth > confMaxInterpolateDepth {
		return fmt.Errorf("value references nest more than %d deep (a reference loop?)", confMaxInterpolateDepth)
	}
	for rest != "" {
		p := strings.IndexByte(rest, '%')
		if p < 0 {
			b.WriteString(rest)
			return nil
		}
		b.WriteString(rest[:p])
		rest = rest[p:]
		switch {
		case strings.HasPrefix(rest, "%%"):
			b.WriteByte('%')
			rest = rest[2:]
		case strings.HasPrefix(rest, "%("):
			m := confInterpolateKey.FindStringSubmatch(rest)
			if m == nil {
				return fmt.Errorf("bad interpolation variable reference %q (want %%(name)s)", rest)
			}
			ref := confLower(m[1])
			rest = rest[len(m[0]):]
			v, ok := vars[ref]
			if !ok {
				return fmt.Errorf("value refers to %s, but there is no option %q here or in [DEFAULT]", m[0], ref)
			}
			if strings.Contains(v, "%") {
				if err := confInterpolate(b, option, v, vars, depth+1); err != nil {
					return err
				}
			} else {
				b.WriteString(v)
			}
		default:
			return fmt.Errorf("'%%' must be followed by '%%' or '(', found: %q (write %%%% for a literal %%)", rest)
		}
	}
	return nil
}

// scanConf reads one file's lines as ConfigParser's _read does (strict
// mode, delimiters = and :, full-line comments # and ;, blank lines kept
// inside values) and returns the same errors it raises: text before the
// first section header, a line that is no option, a section or option
// given twice in one file. It also decides which lines go-ini may parse:
// section headers and plain option lines; it blanks continuation lines and
// the options go-ini would read differently (multi-line values, values
// starting with """ or a backquote, names starting with a quote, a
// backquote or [, the name "-", names holding U+0130, lines holding U+001C
// to U+001F).
func scanConf(path string, data []byte) (*confScan, error) {
	fail := func(line int, format string, args ...any) error {
		return &ConfigError{Path: path, Line: line, Err: fmt.Errorf(format, args...)}
	}
	if !utf8.Valid(data) {
		n := 1 + strings.Count(string(data[:confInvalidUTF8(data)]), "\n")
		return nil, fail(n, "not valid UTF-8")
	}
	lines := confSplitLines(string(data))
	clean := make([]string, len(lines))
	scan := &confScan{}
	sectionsAdded := make(map[string]bool)
	optionsAdded := make(map[confKey]bool)
	var section string
	inSection := false
	var cur *confOption
	indentLevel := 0
	for i, raw := range lines {
		n := i + 1
		stripped := strings.TrimFunc(raw, confIsSpace)
		if stripped == "" || stripped[0] == '#' || stripped[0] == ';' {
			if stripped == "" && cur != nil {
				cur.parts = append(cur.parts, "")
			}
			continue
		}
		indent := strings.IndexFunc(raw, func(r rune) bool { return !confIsSpace(r) })
		indent = utf8.RuneCountInString(raw[:indent])
		if cur != nil && indent > indentLevel {
			cur.parts = append(cur.parts, stripped)
			cur.continued = true
			continue
		}
		indentLevel = indent
		if end := strings.LastIndexByte(stripped, ']'); stripped[0] == '[' && end >= 2 {
			section, inSection, cur = stripped[1:end], true, nil
			if section != confDefaultSection {
				if sectionsAdded[section] {
					return nil, fail(n, "section %q already exists in this file", section)
				}
				sectionsAdded[section] = true
			}
			clean[i] = "[" + section + "]"
			scan.sections = append(scan.sections, section)
			continue
		}
		if !inSection {
			if n == 1 && strings.HasPrefix(raw, "\ufeff") {
				return nil, fail(n, "file starts with a byte order mark (U+FEFF), which the koji client does not accept")
			}
			return nil, fail(n, "no section header before %q", raw)
		}
		eq := strings.IndexAny(stripped, "=:")
		if eq < 0 {
			return nil, fail(n, "%q is not an option line (name = value) nor a [section] header", raw)
		}
		if eq == 0 {
			return nil, fail(n, "option without a name: %q", raw)
		}
		name := confLower(strings.TrimRightFunc(stripped[:eq], confIsSpace))
		k := confKey{section, name}
		if optionsAdded[k] {
			return nil, fail(n, "option %q in section %q already exists in this file", name, section)
		}
		optionsAdded[k] = true
		value := strings.TrimFunc(stripped[eq+1:], confIsSpace)
		cur = &confOption{path: path, line: n, section: section, name: name, parts: []string{value}}
		cur.special = strings.ContainsAny(stripped[:1], "\"`[") || name == "-" || strings.ContainsRune(stripped[:eq], 'İ') ||
			strings.HasPrefix(value, `"""`) || strings.HasPrefix(value, "`") ||
			strings.ContainsFunc(raw, func(r rune) bool { return r >= 0x1c && r <= 0x1f })
		if !cur.special {
			clean[i] = raw
		}
		scan.options = append(scan.options, cur)
	}
	for _, o := range scan.options {
		o.value = strings.TrimRightFunc(strings.Join(o.parts, "\n"), confIsSpace)
		o.parts = nil
		if o.continued {
			o.special = true
			clean[o.line-1] = ""
		}
	}
	scan.clean = []byte(strings.Join(clean, "\n"))
	return scan, nil
}

// confInvalidUTF8 is the offset of the first invalid UTF-8 sequence.
func confInvalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(data)
}

// confSplitLines splits text into lines as Python's universal newlines
// mode does: at \n, \r\n and \r.
func confSplitLines(s string) []string {
	var lines []string
	for s != "" {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			lines = append(lines, s)
			break
		}
		lines = append(lines, s[:i])
		if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			i++
		}
		s = s[i+1:]
	}
	return lines
}
