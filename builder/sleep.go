package builder

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Sleep is kojid's sleep handler (koji.tasks.SleepTask): the task sleeps
// for its one parameter, in seconds, and returns nothing. It ends early
// when the task's context does.
type Sleep struct{}

// Methods is ["sleep"].
func (Sleep) Methods() []string { return []string{"sleep"} }

// Weight is kojid's default, 1.0.
func (Sleep) Weight(*Task) float64 { return DefaultWeight }

// Handle sleeps.
func (Sleep) Handle(ctx context.Context, t *Task) (any, error) {
	if len(t.Params) != 1 {
		return nil, fmt.Errorf("sleep takes exactly 1 argument (%d given)", len(t.Params))
	}
	var secs float64
	switch v := t.Params[0].(type) {
	case int64:
		secs = float64(v)
	case float64:
		secs = v
	default:
		return nil, fmt.Errorf("sleep: %v (%T) is not a number of seconds", v, v)
	}
	if math.IsNaN(secs) || secs < 0 || secs > 1e9 {
		return nil, fmt.Errorf("sleep: %v is not a number of seconds", secs)
	}
	t.Logger.Info("builder: sleeping", "seconds", secs)
	timer := time.NewTimer(time.Duration(secs * float64(time.Second)))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}
