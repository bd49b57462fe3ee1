package builder

import (
	"context"
	"fmt"
	"time"

	"github.com/gokoji/gokoji/koji"
)

// restartWeight is the _taskWeight of kojid's restart tasks.
const restartWeight = 0.1

// defaultRestartTimeout is how long RestartHosts waits for its subtasks
// unless its options say otherwise: kojid's 3600 * 24 seconds.
const defaultRestartTimeout = 24 * time.Hour

// RestartHosts is kojid's restartHosts handler (RestartHostsTask), the
// task of the hub's restartHosts (koji restart-hosts): for each enabled
// host, those of options' channel and arches when given, it makes a
// restart subtask assigned to the host (Restart) and a restartVerify one
// (RestartVerify), and waits for them all, up to options' timeout in
// seconds (a day by default). When this host is among them it first
// waits for its own restart subtask and then, the daemon restarting,
// gives its task back (as kojid's ServerRestart does) so that it does
// not hold the restart up; run again, its subtasks are the same ones
// (host.subtask answers the existing subtask of a label).
type RestartHosts struct{}

// Methods is ["restartHosts"].
func (RestartHosts) Methods() []string { return []string{"restartHosts"} }

// Weight is kojid's 0.1.
func (RestartHosts) Weight(*Task) float64 { return restartWeight }

// Handle runs handler(options=None).
func (RestartHosts) Handle(ctx context.Context, t *Task) (any, error) {
	a, err := t.args([]string{"options"}, 0)
	if err != nil {
		return nil, err
	}
	options, err := optsArg(t.Method, "options", a["options"])
	if err != nil {
		return nil, err
	}
	query := map[string]any{"enabled": true}
	if ch, ok := options["channel"]; ok {
		var info *koji.Channel
		if err := t.Client.CallKw(ctx, "getChannel", &info, []any{ch}, map[string]any{"strict": true}); err != nil {
			return nil, fmt.Errorf("builder: getChannel: %w", err)
		}
		if info == nil {
			return nil, Fail(koji.ErrGeneric, "No such channel: %v", ch)
		}
		query["channelID"] = info.ID
	}
	if arches, ok := options["arches"]; ok {
		query["arches"] = arches
	}
	var hosts []map[string]any
	if err := t.Client.CallKw(ctx, "listHosts", &hosts, nil, query); err != nil {
		return nil, fmt.Errorf("builder: listHosts: %w", err)
	}
	if len(hosts) == 0 {
		return nil, Fail(koji.ErrGeneric, "No matching hosts")
	}
	timeout := defaultRestartTimeout
	if v, ok := options["timeout"]; ok {
		if timeout, err = secondsArg(t.Method, "timeout", v); err != nil {
			return nil, err
		}
	}

	// Task assignments bypass channel restrictions, as in kojid.
	var subtasks, mine []int
	for _, host := range hosts {
		id, err := intArg(t.Method, "a host's id", host["id"])
		if err != nil {
			return nil, err
		}
		restart, err := t.Subtask(ctx, "restart", []any{host},
			&SubtaskOptions{Assign: int(id), Label: fmt.Sprintf("restart %d", id)})
		if err != nil {
			return nil, err
		}
		verify, err := t.Subtask(ctx, "restartVerify", []any{restart, host},
			&SubtaskOptions{Assign: int(id), Label: fmt.Sprintf("sleep %d", id)})
		if err != nil {
			return nil, err
		}
		subtasks = append(subtasks, restart, verify)
		if int(id) == t.d.hostID {
			mine = []int{restart, verify}
		}
	}
	if mine != nil {
		if _, err := t.Wait(ctx, WaitOptions{Subtasks: mine[:1], Timeout: timeout}); err != nil {
			return nil, err
		}
		var verified bool
		if err := t.Client.Call(ctx, "taskFinished", &verified, mine[1]); err != nil {
			return nil, fmt.Errorf("builder: taskFinished: %w", err)
		}
		// kojid gives its task back whenever this host's verification is
		// still to come; here ErrRestart also restarts the daemon, which
		// only the daemon that ran the restart subtask must do. One
		// started since then runs the verification itself, while this
		// task waits.
		if !verified && t.d.RestartPending() {
			return nil, ErrRestart
		}
	}
	if _, err := t.Wait(ctx, WaitOptions{Subtasks: subtasks, All: true, Timeout: timeout}); err != nil {
		return nil, err
	}
	return nil, nil
}

// secondsArg reads a number of seconds.
func secondsArg(method, name string, v any) (time.Duration, error) {
	var secs float64
	switch x := v.(type) {
	case int64:
		secs = float64(x)
	case float64:
		secs = x
	default:
		return 0, Fail(koji.ErrParameter, "%s: %s must be a number of seconds, not %T", method, name, v)
	}
	if !(secs > 0) || secs > 1e9 {
		return 0, Fail(koji.ErrParameter, "%s: %s of %v is not a positive number of seconds", method, name, secs)
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// Restart is kojid's restart handler (RestartTask), restartHosts' first
// subtask on each host: handler(host), where host (a listHosts entry)
// must be this one, makes the daemon restart once idle (RequestRestart)
// and answers "graceful restart initiated".
type Restart struct{}

// Methods is ["restart"].
func (Restart) Methods() []string { return []string{"restart"} }

// Weight is kojid's 0.1.
func (Restart) Weight(*Task) float64 { return restartWeight }

// Foreground is true, as kojid's: the daemon takes no other task before
// the restart is requested.
func (Restart) Foreground() bool { return true }

// Handle runs handler(host).
func (Restart) Handle(_ context.Context, t *Task) (any, error) {
	a, err := t.args([]string{"host"}, 1)
	if err != nil {
		return nil, err
	}
	if err := t.assertThisHost(a["host"]); err != nil {
		return nil, err
	}
	t.Logger.Info("builder: restart requested by the task")
	t.d.RequestRestart()
	return "graceful restart initiated", nil
}

// RestartVerify is kojid's restartVerify handler (RestartVerifyTask),
// restartHosts' second subtask on each host: handler(task_id, host)
// checks that the restart task task_id is CLOSED ("Stage one restart
// task is FAILED", say), that host is this one ("Host mismatch") and that
// the daemon's session began after the restart task closed, which a
// daemon that did not restart fails ("Restart failed - start time is
// ...").
type RestartVerify struct{}

// Methods is ["restartVerify"].
func (RestartVerify) Methods() []string { return []string{"restartVerify"} }

// Weight is kojid's 0.1.
func (RestartVerify) Weight(*Task) float64 { return restartWeight }

// Foreground is true, as kojid's.
func (RestartVerify) Foreground() bool { return true }

// Handle runs handler(task_id, host).
func (RestartVerify) Handle(ctx context.Context, t *Task) (any, error) {
	a, err := t.args([]string{"task_id", "host"}, 2)
	if err != nil {
		return nil, err
	}
	id, err := intArg(t.Method, "task_id", a["task_id"])
	if err != nil {
		return nil, err
	}
	info, err := t.Client.GetTaskInfo(ctx, int(id), nil)
	if err != nil {
		return nil, fmt.Errorf("builder: getTaskInfo: %w", err)
	}
	if info == nil {
		return nil, Fail(koji.ErrGeneric, "No such task: %d", id)
	}
	if info.State != koji.TaskClosed {
		return nil, Fail(koji.ErrGeneric, "Stage one restart task is %s", info.State)
	}
	if err := t.assertThisHost(a["host"]); err != nil {
		return nil, err
	}
	if info.CompletionTS == nil {
		return nil, Fail(koji.ErrGeneric, "Restart task %d has no completion time", id)
	}
	if t.d.startTS < *info.CompletionTS {
		return nil, Fail(koji.ErrGeneric, "Restart failed - start time is %s", tsTime(t.d.startTS).Format(time.ANSIC))
	}
	return nil, nil
}

// assertThisHost checks that a host argument (a getHost or listHosts
// struct) is this daemon's host, as kojid's restart tasks do.
func (t *Task) assertThisHost(v any) error {
	host, ok := v.(map[string]any)
	if !ok {
		return Fail(koji.ErrParameter, "%s: host must be a host struct, not %T", t.Method, v)
	}
	if id, ok := host["id"].(int64); !ok || int(id) != t.d.hostID {
		return Fail(koji.ErrGeneric, "Host mismatch")
	}
	return nil
}

// tsTime is a timestamp in seconds since the epoch as a local time, as
// Python's time.localtime.
func tsTime(ts float64) time.Time {
	sec := int64(ts)
	return time.Unix(sec, int64((ts-float64(sec))*1e9)).Local()
}
