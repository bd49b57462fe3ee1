package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
)

// hub.conf's [policy] section becomes KojiConfig.Policies as upstream's
// ConfigParser reads it (the wanted texts were printed by Python's
// configparser.RawConfigParser for the same file), and [hub]
// MissingPolicyOk = False becomes DenyMissingPolicy.
func TestConfigPolicies(t *testing.T) {
	load := func(text string) (hubserver.KojiConfig, error) {
		t.Helper()
		conf := filepath.Join(t.TempDir(), "hub.conf")
		require.NoError(t, os.WriteFile(conf, []byte(text), 0o600))
		var cfg hubserver.KojiConfig
		err := loadConfig(&settings{Config: conf}, map[string]bool{}, &cfg, slog.New(slog.DiscardHandler))
		return cfg, err
	}
	cfg, err := load(`[hub]
KojiDir = /mnt/koji
MissingPolicyOk = False

[policy]
build_from_srpm =
    has_perm admin :: allow
    # admins only, and alice
    user alice :: allow ; not a comment

    all :: deny Only admin # c
Tag = all :: allow
channel:
	has req_channel :: req
	all :: use default

[other]
x = 1
    y :: z
`)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"build_from_srpm": "\nhas_perm admin :: allow\nuser alice :: allow ; not a comment\n\nall :: deny Only admin # c",
		"tag":             "all :: allow",
		"channel":         "\nhas req_channel :: req\nall :: use default",
	}, cfg.Policies)
	assert.True(t, cfg.DenyMissingPolicy)

	cfg, err = load("[hub]\nMissingPolicyOk = yes\n")
	require.NoError(t, err)
	assert.Nil(t, cfg.Policies, "no [policy]: upstream's defaults")
	assert.False(t, cfg.DenyMissingPolicy)

	for text, want := range map[string]string{
		"[policy]\ntag = all :: allow\nTag = all :: deny\n": `line 3: [policy]: policy "tag" already given`,
		"[policy]\n[hub]\n[policy]\n":                       "line 3: section [policy] already exists",
		"[policy]\njust words\n":                            "just words",
		"[hub]\nMissingPolicyOk = maybe\n":                  `[hub] MissingPolicyOk: not a boolean: "maybe"`,
	} {
		_, err := load(text)
		require.Error(t, err, text)
		assert.Contains(t, err.Error(), want, text)
	}

	// The hub takes the configured policies; one that does not parse
	// keeps it from opening.
	cfg, err = load("[policy]\nbuild_from_srpm =\n    user alice :: allow\n    all :: deny\n")
	require.NoError(t, err)
	cfg.DSN = filepath.Join(t.TempDir(), "hub.db")
	k, err := hubserver.OpenKoji(context.Background(), cfg)
	require.NoError(t, err)
	require.NoError(t, k.Close())
	cfg, err = load("[policy]\nbuild_from_srpm =\n    user alice :: {\n    all :: deny\n")
	require.NoError(t, err)
	cfg.DSN = filepath.Join(t.TempDir(), "hub.db")
	_, err = hubserver.OpenKoji(context.Background(), cfg)
	assert.EqualError(t, err, `hubserver: policy build_from_srpm: policy line 3 ("all :: deny"): GenericError: nesting error in rule set`)
}
