package rebuild

import (
	"sync"
	"time"
)

// Throttle is a token bucket: at most Burst submissions at once, refilled
// at Burst per Interval. It is the global brake Koschei lacks: a burst of
// dependency changes (a mass retag, as the one that flooded Fedora's Koji)
// raises many priorities past the threshold at once, and Koschei then
// submits one build per 3 s cycle for as long as max_builds and the load
// allow; the throttle bounds the rate whatever the priorities say.
type Throttle struct {
	mu       sync.Mutex
	burst    float64
	interval time.Duration
	tokens   float64
	last     time.Time
}

// NewThrottle returns a full bucket of burst tokens refilled over
// interval; burst ≤ 0 or interval ≤ 0 means no limit.
func NewThrottle(burst int, interval time.Duration, now time.Time) *Throttle {
	if interval <= 0 {
		burst = 0
	}
	return &Throttle{burst: float64(burst), interval: interval, tokens: float64(burst), last: now}
}

func (t *Throttle) refill(now time.Time) {
	if now.After(t.last) {
		t.tokens = min(t.burst, t.tokens+t.burst*float64(now.Sub(t.last))/float64(t.interval))
	}
	if now.After(t.last) {
		t.last = now
	}
}

// Allow takes a token if one is left at now and reports whether it did.
func (t *Throttle) Allow(now time.Time) bool {
	if t == nil || t.burst <= 0 {
		return true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.refill(now)
	if t.tokens < 1 {
		return false
	}
	t.tokens--
	return true
}

// Return gives back a token taken for a submission that did not happen.
func (t *Throttle) Return() {
	if t == nil || t.burst <= 0 {
		return
	}
	t.mu.Lock()
	t.tokens = min(t.burst, t.tokens+1)
	t.mu.Unlock()
}

// Next is how long after now a token is available (0 if one is).
func (t *Throttle) Next(now time.Time) time.Duration {
	if t == nil || t.burst <= 0 {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.refill(now)
	if t.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - t.tokens) * float64(t.interval) / t.burst)
}
