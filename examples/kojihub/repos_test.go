package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
)

// hub.conf's repo options, under upstream's names and units; upstream's
// 0 for none is kept, and values upstream cannot use are refused.
func TestConfigRepoOptions(t *testing.T) {
	load := func(text string) (hubserver.RepoConfig, error) {
		t.Helper()
		conf := filepath.Join(t.TempDir(), "hub.conf")
		require.NoError(t, os.WriteFile(conf, []byte(text), 0o600))
		var cfg hubserver.KojiConfig
		err := loadConfig(&settings{Config: conf}, map[string]bool{}, &cfg, slog.New(slog.DiscardHandler))
		return cfg.Repos, err
	}
	cfg, err := load("[hub]\n")
	require.NoError(t, err)
	assert.Equal(t, hubserver.RepoConfig{}, cfg, "upstream's defaults")

	cfg, err = load(`[hub]
AllowNewRepo = False
RepoLag = 600
RepoAutoLag = 0
RepoLagWindow = 60
MaxRepoTasks = 4
MaxRepoTasksMaven = 1
RepoRetries = 0
RequestCleanTime = 30
RepoQueueUser = repobot
DebuginfoTags = *-debug f4?-build
SourceTags = *-src
SeparateSourceTags = *-sep
`)
	require.NoError(t, err)
	assert.Equal(t, hubserver.RepoConfig{DisableNewRepo: true, RepoLag: 10 * time.Minute, RepoAutoLag: -1,
		RepoLagWindow: time.Minute, MaxRepoTasks: 4, MaxRepoTasksMaven: 1, RepoRetries: -1,
		RequestCleanTime: 30 * time.Minute, RepoQueueUser: "repobot", DebuginfoTags: []string{"*-debug", "f4?-build"},
		SourceTags: []string{"*-src"}, SeparateSourceTags: []string{"*-sep"}}, cfg)

	cfg, err = load("[hub]\nRequestCleanTime = 0\nRepoLag = 0\n")
	require.NoError(t, err)
	assert.Equal(t, hubserver.RepoConfig{RequestCleanTime: time.Nanosecond, RepoLag: -1}, cfg)

	for text, want := range map[string]string{
		"RepoLagWindow = 0":  "[hub] RepoLagWindow: must be positive",
		"MaxRepoTasks = 0":   "[hub] MaxRepoTasks: must be positive",
		"RepoRetries = -1":   "[hub] RepoRetries: must not be negative",
		"RepoLag = soon":     `[hub] RepoLag: not an integer: "soon"`,
		"AllowNewRepo = meh": `[hub] AllowNewRepo: not a boolean: "meh"`,
	} {
		_, err := load("[hub]\n" + text + "\n")
		if assert.Error(t, err, text) {
			assert.Contains(t, err.Error(), want)
		}
	}
}
