package testenv

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The RabbitMQ server on the machine is shared by the test binaries of
// every package, which go test runs at the same time. A test that closes
// every connection or restarts the broker would break the others, so
// tests that use the broker hold a lock on a file beside them all: shared
// while they use it, exclusive while they disrupt it.
var brokerLockPath = filepath.Join(os.TempDir(), "gokoji-test-rabbitmq.lock")

// brokerLockWait bounds the wait for the lock, so that a test stuck
// elsewhere fails this one with a reason instead of hanging it.
const brokerLockWait = 5 * time.Minute

var exclusiveHolder struct {
	sync.Mutex
	held bool
}

// ShareBroker takes the broker lock shared until t ends. Tests of the
// process holding it exclusively (through DisruptBroker) share it
// already, and take nothing.
func ShareBroker(t testing.TB) {
	t.Helper()
	exclusiveHolder.Lock()
	held := exclusiveHolder.held
	exclusiveHolder.Unlock()
	if !held {
		lockBroker(t, syscall.LOCK_SH)
	}
}

// DisruptBroker takes the broker lock exclusively until t ends, waiting
// until no test of any package uses the broker: for a test that closes
// the broker's connections or stops it.
func DisruptBroker(t testing.TB) {
	t.Helper()
	lockBroker(t, syscall.LOCK_EX)
	exclusiveHolder.Lock()
	exclusiveHolder.held = true
	exclusiveHolder.Unlock()
	t.Cleanup(func() {
		exclusiveHolder.Lock()
		exclusiveHolder.held = false
		exclusiveHolder.Unlock()
	})
}

func lockBroker(t testing.TB, how int) {
	t.Helper()
	f, err := os.OpenFile(brokerLockPath, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		t.Fatalf("the RabbitMQ test lock: %v", err)
	}
	deadline := time.Now().Add(brokerLockWait)
	for {
		err = syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if err != syscall.EWOULDBLOCK || time.Now().After(deadline) {
			f.Close()
			t.Fatalf("the RabbitMQ test lock %s: %v (waited %v)", brokerLockPath, err, brokerLockWait)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Closing the file releases the lock.
	t.Cleanup(func() { f.Close() })
}
