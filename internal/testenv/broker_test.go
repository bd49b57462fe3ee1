package testenv

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// tryLock reports whether the broker lock could be taken now, through a
// file description of its own, as another test binary would.
func tryLock(t *testing.T, how int) bool {
	t.Helper()
	f, err := os.OpenFile(brokerLockPath, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB) == nil
}

func TestBrokerLock(t *testing.T) {
	saved := brokerLockPath
	brokerLockPath = filepath.Join(t.TempDir(), "lock")
	t.Cleanup(func() { brokerLockPath = saved })

	t.Run("shared", func(t *testing.T) {
		ShareBroker(t)
		if !tryLock(t, syscall.LOCK_SH) {
			t.Error("a second sharer was refused")
		}
		if tryLock(t, syscall.LOCK_EX) {
			t.Error("a disrupter got the lock while a test shares it")
		}
	})
	if !tryLock(t, syscall.LOCK_EX) {
		t.Fatal("the shared lock outlived its test")
	}
	t.Run("exclusive", func(t *testing.T) {
		DisruptBroker(t)
		if tryLock(t, syscall.LOCK_SH) {
			t.Error("another binary shared the broker while a test disrupts it")
		}
		ShareBroker(t) // the disrupting test's own helpers: no deadlock
	})
	if !tryLock(t, syscall.LOCK_SH) {
		t.Fatal("the exclusive lock outlived its test")
	}
}
