package estimates_test

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
	"github.com/stretchr/testify/require"
)

// fakeKoji is a small in-memory Koji whose handlers answer the calls the
// estimates make, with replies shaped as the recorded Koji 1.35.3 ones
// (internal/kojitest/testdata/wire): every member, nil where the hub
// sends nil, times as strings and *_ts floats.
type fakeKoji struct {
	averages map[string]float64 // getAverageBuildDuration, in seconds
	packages map[string]int     // package IDs by name
	builds   []fakeBuild
	tasks    []fakeTask
	hosts    []fakeHost
	// faulty names packages whose lookups fail with a GenericError.
	faulty map[string]bool
}

type fakeBuild struct {
	ID, PackageID int
	Name          string
	Version       string
	State         koji.BuildState
	Start, End    time.Time // End is zero while building
}

type fakeTask struct {
	ID       int
	Method   string
	State    koji.TaskState
	Parent   int // 0: none
	Channel  int
	Host     int // 0: none
	Weight   float64
	Priority int
	Created  time.Time
	Started  time.Time // zero: not started
	Ended    time.Time // zero: not finished
	Params   []any
}

type fakeHost struct {
	ID       int
	Name     string
	Capacity float64
	Enabled  bool
	Channels []int
}

// base is a time in the recording's era.
var base = time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return base.Add(d) }

func hubTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02 15:04:05.000000-07:00")
}

func hubTS(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return float64(t.UnixMicro()) / 1e6
}

func orNil(id int) any {
	if id == 0 {
		return nil
	}
	return id
}

func (b fakeBuild) reply() map[string]any {
	nvr := fmt.Sprintf("%s-%s-1", b.Name, b.Version)
	return map[string]any{
		"build_id": b.ID, "package_id": b.PackageID, "package_name": b.Name, "name": b.Name,
		"version": b.Version, "release": "1", "epoch": nil, "nvr": nvr, "state": int(b.State), "draft": false,
		"creation_event_id": 100 + b.ID, "creation_time": hubTime(b.Start), "creation_ts": hubTS(b.Start),
		"start_time": hubTime(b.Start), "start_ts": hubTS(b.Start),
		"completion_time": hubTime(b.End), "completion_ts": hubTS(b.End),
		"owner_id": 1, "owner_name": "kojiadmin", "task_id": 5000 + b.ID, "source": nil, "extra": nil,
		"volume_id": 0, "volume_name": "DEFAULT",
		"promoter_id": nil, "promoter_name": nil, "promotion_time": nil, "promotion_ts": nil,
	}
}

// reply is the task as getTaskInfo and getTaskChildren send it, with its
// decoded request when asked for.
func (t fakeTask) reply(request bool) map[string]any {
	m := map[string]any{
		"id": t.ID, "method": t.Method, "state": int(t.State), "arch": "noarch", "channel_id": t.Channel,
		"host_id": orNil(t.Host), "owner": 1, "parent": orNil(t.Parent), "label": nil, "priority": t.Priority,
		"weight": t.Weight, "waiting": nil, "awaited": nil,
		"create_time": hubTime(t.Created), "create_ts": hubTS(t.Created),
		"start_time": hubTime(t.Started), "start_ts": hubTS(t.Started),
		"completion_time": hubTime(t.Ended), "completion_ts": hubTS(t.Ended),
	}
	if request {
		m["request"] = t.Params
	}
	return m
}

// listed is the task as listTasks sends it without decode: with its owner,
// and its request and result as the stored XML documents.
func (t fakeTask) listed() (map[string]any, error) {
	m := t.reply(false)
	m["owner_name"], m["owner_type"] = "kojiadmin", 0
	doc, err := xmlrpc.MarshalCall(t.Method, t.Params...)
	if err != nil {
		return nil, err
	}
	m["request"], m["result"] = string(doc), nil
	return m, nil
}

// decoded returns the task as a client reads getTaskInfo's reply, with its
// request or without.
func (t fakeTask) decoded(tb testing.TB, request bool) *koji.Task {
	tb.Helper()
	raw, err := xmlrpc.MarshalValue(t.reply(request))
	require.NoError(tb, err)
	var task koji.Task
	require.NoError(tb, raw.Decode(&task))
	return &task
}

func (h fakeHost) reply() map[string]any {
	return map[string]any{
		"id": h.ID, "name": h.Name, "user_id": 100 + h.ID, "arches": "x86_64", "capacity": h.Capacity,
		"enabled": h.Enabled, "ready": true, "task_load": 0.0, "comment": nil, "description": nil, "update_ts": nil,
	}
}

func fault(format string, args ...any) error {
	return &xmlrpc.Fault{Code: 1000, String: fmt.Sprintf(format, args...)}
}

func paramErr(format string, args ...any) error {
	return &xmlrpc.Fault{Code: 1019, String: fmt.Sprintf(format, args...)}
}

// intArg reads an integer argument; the hub takes ints only.
func intArg(v any) (int, bool) {
	n, ok := v.(int64)
	return int(n), ok
}

// queryOpts reads the hub's queryOpts: limit, offset and order.
func queryOpts(kwargs map[string]any) (limit, offset int, order string, err error) {
	q, _ := kwargs["queryOpts"].(map[string]any)
	for name, v := range q {
		switch name {
		case "limit":
			limit, _ = intArg(v)
		case "offset":
			offset, _ = intArg(v)
		case "order":
			order, _ = v.(string)
		default:
			return 0, 0, "", paramErr("unknown queryOpts member %q", name)
		}
	}
	return limit, offset, order, nil
}

func window[T any](items []T, limit, offset int) []T {
	items = items[min(offset, len(items)):]
	if limit > 0 && limit < len(items) {
		items = items[:limit]
	}
	return items
}

func (k *fakeKoji) task(id int) (fakeTask, bool) {
	for _, t := range k.tasks {
		if t.ID == id {
			return t, true
		}
	}
	return fakeTask{}, false
}

func (k *fakeKoji) handlers() map[string]handler {
	return map[string]handler{
		"getAverageBuildDuration": func(args []any, _ map[string]any) (any, error) {
			name, ok := args[0].(string)
			if !ok {
				return nil, paramErr("package must be a name")
			}
			if k.faulty[name] {
				return nil, fault("simulated failure looking up %s", name)
			}
			if secs, ok := k.averages[name]; ok {
				return secs, nil
			}
			return nil, nil
		},
		"getPackage": func(args []any, _ map[string]any) (any, error) {
			name, _ := args[0].(string)
			if k.faulty[name] {
				return nil, fault("simulated failure looking up %s", name)
			}
			if id, ok := k.packages[name]; ok {
				return map[string]any{"id": id, "name": name}, nil
			}
			return nil, nil
		},
		"listBuilds": k.listBuilds,
		"getTaskInfo": func(args []any, kwargs map[string]any) (any, error) {
			id, ok := intArg(args[0])
			if !ok {
				return nil, paramErr("task_id must be an int")
			}
			t, ok := k.task(id)
			if !ok {
				if kwargs["strict"] == true {
					return nil, fault("No such task: %d", id)
				}
				return nil, nil
			}
			return t.reply(kwargs["request"] == true), nil
		},
		"getTaskChildren": func(args []any, kwargs map[string]any) (any, error) {
			id, ok := intArg(args[0])
			if !ok {
				return nil, paramErr("task_id must be an int")
			}
			children := []any{}
			for _, t := range k.tasks {
				if t.Parent == id {
					children = append(children, t.reply(kwargs["request"] == true))
				}
			}
			return children, nil
		},
		"listHosts": func(_ []any, kwargs map[string]any) (any, error) {
			channel, _ := intArg(kwargs["channelID"])
			enabled, filterEnabled := kwargs["enabled"].(bool)
			hosts := []any{}
			for _, h := range k.hosts {
				if (channel == 0 || slices.Contains(h.Channels, channel)) && (!filterEnabled || h.Enabled == enabled) {
					hosts = append(hosts, h.reply())
				}
			}
			return hosts, nil
		},
		"listTasks": k.listTasks,
	}
}

// listBuilds filters on packageID and state and sorts by -completion_time
// (the only order it knows), then applies limit.
func (k *fakeKoji) listBuilds(_ []any, kwargs map[string]any) (any, error) {
	limit, offset, order, err := queryOpts(kwargs)
	if err != nil {
		return nil, err
	}
	if order != "-completion_time" {
		return nil, paramErr("this fake only orders by -completion_time, not %q", order)
	}
	pkgID, ok := intArg(kwargs["packageID"])
	if !ok {
		return nil, paramErr("packageID must be an int")
	}
	state, filterState := intArg(kwargs["state"])
	var builds []fakeBuild
	for _, b := range k.builds {
		if b.PackageID == pkgID && (!filterState || int(b.State) == state) {
			builds = append(builds, b)
		}
	}
	// The hub sorts NULLs (builds not completed) first when descending.
	completed := func(b fakeBuild) int {
		if b.End.IsZero() {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(builds, func(a, b fakeBuild) int {
		return cmp.Or(cmp.Compare(completed(a), completed(b)), b.End.Compare(a.End))
	})
	out := []any{}
	for _, b := range window(builds, limit, offset) {
		out = append(out, b.reply())
	}
	return out, nil
}

// listTasks filters on opts' channel_id and state and sorts by priority,
// create time and ID (the order ChannelTasks asks for), then pages.
func (k *fakeKoji) listTasks(_ []any, kwargs map[string]any) (any, error) {
	limit, offset, order, err := queryOpts(kwargs)
	if err != nil {
		return nil, err
	}
	if order != "priority,create_time,id" {
		return nil, paramErr("this fake only orders by priority,create_time,id, not %q", order)
	}
	opts, _ := kwargs["opts"].(map[string]any)
	channel, filterChannel := intArg(opts["channel_id"])
	states, _ := opts["state"].([]any)
	var tasks []fakeTask
	for _, t := range k.tasks {
		if filterChannel && t.Channel != channel {
			continue
		}
		if states != nil && !slices.Contains(states, any(int64(t.State))) {
			continue
		}
		tasks = append(tasks, t)
	}
	slices.SortFunc(tasks, func(a, b fakeTask) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	out := []any{}
	for _, t := range window(tasks, limit, offset) {
		m, err := t.listed()
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}
