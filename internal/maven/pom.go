// Package maven reads what the hub needs of Maven files: the coordinates
// a .pom declares, as koji.parse_pom reads them.
package maven

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Coordinates are a POM's groupId, artifactId and version.
type Coordinates struct {
	GroupID, ArtifactID, Version string
}

// ErrMissing is the error for a POM without one of the coordinates: koji's
// "could not extract %s from POM".
var ErrMissing = errors.New("could not extract field from POM")

// A MissingError names the coordinate a POM lacks.
type MissingError struct{ Field string }

func (e *MissingError) Error() string { return "could not extract " + e.Field + " from POM" }

// Is makes errors.Is(err, ErrMissing) hold.
func (e *MissingError) Is(target error) bool { return target == ErrMissing }

// entity matches an entity reference, which koji replaces with "?" when
// the XML does not parse (undefined entities are common in POMs).
var entity = regexp.MustCompile(`&[A-Za-z0-9]+;`)

// ParsePOM returns the coordinates of a POM as koji.parse_pom does: each
// from the project element's child of that name, else from the parent
// element's; the contents are decoded as UTF-8 with invalid bytes taken
// as Latin-1 (koji.fixEncoding).
func ParsePOM(contents []byte) (Coordinates, error) {
	if len(contents) == 0 {
		return Coordinates{}, errors.New("either a path to a pom file or the contents of a pom file must be specified")
	}
	text := fixEncoding(contents)
	values, err := scan(text)
	if err != nil {
		if values, err = scan(entity.ReplaceAllString(text, "?")); err != nil {
			return Coordinates{}, fmt.Errorf("parsing POM: %w", err)
		}
	}
	for _, f := range []string{"groupId", "artifactId", "version"} {
		if _, ok := values[f]; !ok {
			return Coordinates{}, &MissingError{Field: f}
		}
	}
	return Coordinates{GroupID: values["groupId"], ArtifactID: values["artifactId"], Version: values["version"]}, nil
}

// fixEncoding is koji.fixEncoding: UTF-8 as is, else Latin-1.
func fixEncoding(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// scan is koji's POMHandler: the fields directly under the root (named
// project) and under its parent element, the project's winning.
func scan(text string) (map[string]string, error) {
	dec := xml.NewDecoder(strings.NewReader(text))
	dec.Strict = true
	values := map[string]string{}
	var stack []string
	var content bytes.Buffer
	root := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			switch {
			case len(stack) > 0:
				return nil, errors.New("unexpected end of document")
			case !root:
				return nil, errors.New("no element found")
			}
			return values, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			root = true
			stack = append(stack, t.Name.Local)
			content.Reset()
		case xml.CharData:
			content.Write(t)
		case xml.EndElement:
			if n := len(stack); (n == 2 || n == 3) && isField(stack[n-1]) {
				v := strings.TrimSpace(content.String())
				switch stack[n-2] {
				case "parent":
					if _, ok := values[stack[n-1]]; !ok {
						values[stack[n-1]] = v
					}
				case "project":
					values[stack[n-1]] = v
				}
			}
			content.Reset()
			stack = stack[:len(stack)-1]
		}
	}
}

func isField(name string) bool { return name == "groupId" || name == "artifactId" || name == "version" }
