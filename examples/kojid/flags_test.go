package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kojid's command line options a user running it by hand needs, under
// kojid.conf's names; a flag overrides the file.
func TestKojidFlags(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "kojid.conf")
	require.NoError(t, os.WriteFile(conf, []byte("[kojid]\nserver = https://file/kojihub\ntopurl = https://file/kojifiles\n"+
		"sleeptime = 30\nminspace = 100\nmaxload = 12.5\nlog_level = WARNING\n"), 0o600))

	s, err := loadSettings([]string{"-c", conf}, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, "https://file/kojihub", s.server)
	assert.Equal(t, "https://file/kojifiles", s.topURL)
	assert.Equal(t, 30*time.Second, s.sleepTime)
	assert.Equal(t, int64(100), s.minSpace)
	assert.Equal(t, 12.5, s.maxLoad)
	assert.Equal(t, slog.LevelWarn, s.level)

	s, err = loadSettings([]string{"--config", conf, "-s", "https://flag/kojihub", "--topurl", "https://flag/kojifiles",
		"--topdir", "/mnt/koji", "--sleeptime", "2", "--minspace", "5", "--maxload", "-1", "--workdir", dir, "--maxjobs", "3", "-v"}, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, "https://flag/kojihub", s.server)
	assert.Equal(t, "https://flag/kojifiles", s.topURL)
	assert.Equal(t, "/mnt/koji", s.topDir)
	assert.Equal(t, 2*time.Second, s.sleepTime)
	assert.Equal(t, int64(5), s.minSpace)
	assert.Equal(t, -1.0, s.maxLoad)
	assert.Equal(t, dir, s.workDir)
	assert.Equal(t, 3, s.maxJobs)
	assert.Equal(t, slog.LevelInfo, s.level, "-v over log_level")

	// No file at all: the flags alone.
	s, err = loadSettings([]string{"--server", "https://h/kojihub", "--topurl", "https://h/kojifiles", "-d", "-f"}, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, "https://h/kojifiles", s.topURL)
	assert.Equal(t, slog.LevelDebug, s.level)

	for args, want := range map[string][]string{
		`sleeptime = "soon"`: {"-s", "https://h/kojihub", "--sleeptime", "soon"},
		`minspace = "lots"`:  {"-s", "https://h/kojihub", "--minspace", "lots"},
		`maxload = "high"`:   {"-s", "https://h/kojihub", "--maxload", "high"},
		"no server":          {"--topurl", "https://h/kojifiles"},
	} {
		_, err := loadSettings(want, &bytes.Buffer{})
		assert.ErrorContains(t, err, args)
	}
}
