package main

import (
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// specFile is what the pure-Go path reads of an RPM spec: the preamble's
// "Tag: value" lines, %description, and the install lines of %install.
// It is no spec parser: no macros, conditionals or subpackages, which
// hello.spec does not use; anything else in %install is refused, so that
// the fallback never makes a package other than the one rpmbuild would.
type specFile struct {
	tags        map[string]string // by lower-case tag name
	description string
	installs    []installLine
}

// installLine is "install -D -m MODE SOURCE %{buildroot}DEST".
type installLine struct {
	mode fs.FileMode
	src  string // relative to the unpacked source directory
	dest string // absolute path in the package
}

// tag is the preamble's value of name ("" when absent).
func (s *specFile) tag(name string) string { return s.tags[strings.ToLower(name)] }

// noarch reports whether the spec says BuildArch: noarch.
func (s *specFile) noarch() bool { return s.tag("BuildArch") == "noarch" }

// parseSpec reads text, requiring the tags a package needs.
func parseSpec(text string) (*specFile, error) {
	s := &specFile{tags: map[string]string{}}
	section := "preamble"
	var desc []string
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "%") && !strings.HasPrefix(trimmed, "%{") {
			section = strings.Fields(trimmed)[0][1:]
			continue
		}
		switch section {
		case "preamble":
			if trimmed == "" || strings.HasPrefix(trimmed, "#") {
				continue
			}
			name, value, ok := strings.Cut(trimmed, ":")
			if !ok {
				return nil, fmt.Errorf("spec line %d: want \"Tag: value\", not %q", n, trimmed)
			}
			value = strings.TrimSpace(value)
			if strings.Contains(value, "%") {
				return nil, fmt.Errorf("spec line %d: %s has a macro, which the pure-Go path does not expand", n, name)
			}
			s.tags[strings.ToLower(strings.TrimSpace(name))] = value
		case "description":
			desc = append(desc, line)
		case "install":
			if trimmed == "" || strings.HasPrefix(trimmed, "#") {
				continue
			}
			in, err := parseInstall(trimmed)
			if err != nil {
				return nil, fmt.Errorf("spec line %d: %w", n, err)
			}
			s.installs = append(s.installs, in)
		}
	}
	s.description = strings.TrimSpace(strings.Join(desc, "\n"))
	for _, t := range []string{"Name", "Version", "Release", "Summary", "License"} {
		if s.tag(t) == "" {
			return nil, fmt.Errorf("spec: no %s", t)
		}
	}
	return s, nil
}

// parseInstall reads "install -D -m MODE SOURCE %{buildroot}DEST".
func parseInstall(line string) (installLine, error) {
	f := strings.Fields(line)
	const root = "%{buildroot}"
	if len(f) != 6 || f[0] != "install" || f[1] != "-D" || f[2] != "-m" || !strings.HasPrefix(f[5], root) {
		return installLine{}, fmt.Errorf("the pure-Go path understands only \"install -D -m MODE SOURCE %s/PATH\" in %%install, not %q", root, line)
	}
	mode, err := strconv.ParseUint(f[3], 8, 32)
	if err != nil || mode > 0o777 {
		return installLine{}, fmt.Errorf("install mode %q: want octal permission bits", f[3])
	}
	dest := strings.TrimPrefix(f[5], root)
	if !path.IsAbs(dest) || path.Clean(dest) != dest || !fs.ValidPath(f[4]) {
		return installLine{}, fmt.Errorf("install %s %s: want a relative source and a clean absolute destination", f[4], f[5])
	}
	return installLine{mode: fs.FileMode(mode), src: f[4], dest: dest}, nil
}
