package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
)

// hub.conf's notification options, under upstream's names.
func TestConfigNotificationOptions(t *testing.T) {
	load := func(text string) hubserver.NotificationConfig {
		t.Helper()
		conf := filepath.Join(t.TempDir(), "hub.conf")
		require.NoError(t, os.WriteFile(conf, []byte(text), 0o600))
		var cfg hubserver.KojiConfig
		require.NoError(t, loadConfig(&settings{Config: conf}, map[string]bool{}, &cfg, slog.New(slog.DiscardHandler)))
		return cfg.Notifications
	}
	assert.Equal(t, hubserver.NotificationConfig{}, load("[hub]\n"), "upstream's defaults")
	assert.Equal(t, hubserver.NotificationConfig{Disable: true, SkipSuccess: true, EmailDomain: "example.com",
		WebURL: "https://koji.example.com/koji"},
		load("[hub]\nDisableNotifications = True\nNotifyOnSuccess = False\nEmailDomain = example.com\n"+
			"KojiWebURL = https://koji.example.com/koji\n"))
	assert.Equal(t, hubserver.NotificationConfig{}, load("[hub]\nDisableNotifications = no\nNotifyOnSuccess = yes\n"))
}
