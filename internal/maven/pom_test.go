package maven

import (
	"encoding/xml"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePOM(t *testing.T) {
	c, err := ParsePOM([]byte(`<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <parent><groupId>org.parent</groupId><artifactId>parent</artifactId><version>7</version></parent>
  <artifactId> demo </artifactId>
  <dependencies><dependency><groupId>x</groupId><version>9</version></dependency></dependencies>
</project>`))
	require.NoError(t, err)
	assert.Equal(t, Coordinates{GroupID: "org.parent", ArtifactID: "demo", Version: "7"}, c,
		"the parent's groupId and version stand in; dependencies (depth 4) do not count")

	c, err = ParsePOM([]byte(`<project><version>2.0</version><parent><version>1</version></parent>` +
		`<groupId>g</groupId><artifactId>a</artifactId></project>`))
	require.NoError(t, err)
	assert.Equal(t, "2.0", c.Version, "the project's own version wins whatever the order")

	c, err = ParsePOM([]byte(`<project><groupId>g&copy;</groupId><artifactId>a</artifactId><version>1</version></project>`))
	require.NoError(t, err)
	assert.Equal(t, "g?", c.GroupID, "an undefined entity becomes ? and the POM is read again")

	c, err = ParsePOM([]byte("<project><groupId>caf\xe9</groupId><artifactId>a</artifactId><version>1</version></project>"))
	require.NoError(t, err)
	assert.Equal(t, "café", c.GroupID, "not UTF-8: Latin-1")

	_, err = ParsePOM([]byte(`<project><groupId>g</groupId><version>1</version></project>`))
	assert.True(t, errors.Is(err, ErrMissing))
	assert.EqualError(t, err, "could not extract artifactId from POM")
	_, err = ParsePOM(nil)
	assert.EqualError(t, err, "either a path to a pom file or the contents of a pom file must be specified")
	_, err = ParsePOM([]byte(`<project><groupId>g</groupId>`))
	assert.ErrorContains(t, err, "parsing POM")
	_, err = ParsePOM([]byte(`just text`))
	assert.ErrorContains(t, err, "parsing POM")
}

// FuzzParsePOM: no input panics, and coordinates read from any input
// come back the same from a POM written with them.
func FuzzParsePOM(f *testing.F) {
	f.Add([]byte(`<project><groupId>g</groupId><artifactId>a</artifactId><version>1</version></project>`))
	f.Add([]byte(`<project><parent><groupId>g</groupId></parent>&x;</project>`))
	f.Add([]byte("<p>\xff</p>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParsePOM(data)
		if err != nil {
			return
		}
		var b strings.Builder
		b.WriteString("<project>")
		for _, f := range [][2]string{{"groupId", c.GroupID}, {"artifactId", c.ArtifactID}, {"version", c.Version}} {
			if strings.ContainsFunc(f[1], func(r rune) bool { return !xmlChar(r) }) {
				return // not representable in XML: nothing to compare
			}
			b.WriteString("<" + f[0] + ">")
			require.NoError(t, xml.EscapeText(&b, []byte(f[1])))
			b.WriteString("</" + f[0] + ">")
		}
		b.WriteString("</project>")
		again, err := ParsePOM([]byte(b.String()))
		require.NoError(t, err, b.String())
		assert.Equal(t, c, again)
	})
}

// xmlChar reports whether XML 1.0 allows r in text.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}
