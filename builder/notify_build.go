package builder

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// BuildNotification is kojid's buildNotification handler
// (BuildNotificationTask): it mails the recipients the hub chose how a
// build ended, with its tasks, their hosts, logs and RPMs (as URLs under
// the web URL the hub gives and the daemon's TopURL), the failure or who
// canceled it, and the last three changelog entries. Without recipients
// it sends nothing.
type BuildNotification struct{ Mail Mail }

// Methods is ["buildNotification"].
func (BuildNotification) Methods() []string { return []string{"buildNotification"} }

// Weight is kojid's 0.1.
func (BuildNotification) Weight(*Task) float64 { return notifyWeight }

// notifyTask is one task of the build as kojid's _getTaskData collects it.
type notifyTask struct {
	id                    int
	arch, buildArch, host string
	state, result, label  string
	logs, misc            [][2]string // file name, volume
	rpms, srpms           []string
	hasHost               bool
}

// buildStates are koji.BUILD_STATES' names, lower-cased as kojid prints
// them.
var buildStates = []string{"building", "complete", "deleted", "failed", "canceled"}

// taskData is kojid's _getTaskData: the task and, depth first, its
// descendants, in the order the hub lists them.
func taskData(ctx context.Context, c *koji.Client, id int, data []*notifyTask) ([]*notifyTask, error) {
	info, err := c.GetTaskInfo(ctx, id, &koji.TaskInfoOptions{Request: true})
	if err != nil {
		return nil, err
	}
	if info == nil {
		return data, nil
	}
	nt := &notifyTask{id: info.ID, arch: info.Arch, state: strings.ToLower(info.State.String()), label: info.Label()}
	if info.SubtaskLabel != nil {
		nt.buildArch = *info.SubtaskLabel
	}
	if info.HostID != nil {
		var host map[string]any
		if err := c.Call(ctx, "getHost", &host, *info.HostID); err != nil {
			return nil, err
		}
		if name, _ := host["name"].(string); name != "" {
			nt.host, nt.hasHost = name, true
		}
	}
	var result any
	if err := c.Call(ctx, "getTaskResult", &result, id); err != nil {
		var f *koji.Fault
		if !errors.As(err, &f) {
			return nil, err
		}
		result = strings.TrimSpace(f.String)
	}
	nt.result = "Unknown"
	if xmlrpc.Truthy(result) {
		nt.result = pyText(result)
	}
	var files map[string][]string
	if err := c.CallKw(ctx, "listTaskOutput", &files, []any{id}, map[string]any{"all_volumes": true}); err != nil {
		return nil, err
	}
	for name, vols := range files {
		switch {
		case strings.HasSuffix(name, ".log"):
			for _, v := range vols {
				nt.logs = append(nt.logs, [2]string{name, v})
			}
		case strings.HasSuffix(name, ".src.rpm"):
			nt.srpms = append(nt.srpms, name)
		case strings.HasSuffix(name, ".rpm"):
			nt.rpms = append(nt.rpms, name)
		default:
			for _, v := range vols {
				nt.misc = append(nt.misc, [2]string{name, v})
			}
		}
	}
	byVolume := func(a, b [2]string) int { return cmp.Or(strings.Compare(a[1], b[1]), strings.Compare(a[0], b[0])) }
	slices.SortFunc(nt.logs, byVolume)
	slices.SortFunc(nt.misc, byVolume)
	slices.Sort(nt.rpms)
	data = append(data, nt)
	children, err := c.GetTaskChildren(ctx, id, nil)
	if err != nil {
		return nil, err
	}
	for _, child := range children {
		if data, err = taskData(ctx, c, child.ID, data); err != nil {
			return nil, err
		}
	}
	return data, nil
}

// formatTimeLong is koji.formatTimeLong of a timestamp: local time, as
// "Sat, 07 Sep 2002 00:00:01 UTC"; empty for none.
func formatTimeLong(v any) string {
	ts, ok := v.(float64)
	if !ok {
		if n, isInt := v.(int64); isInt {
			ts, ok = float64(n), true
		}
	}
	if !ok || ts == 0 {
		return ""
	}
	sec := int64(ts)
	return time.Unix(sec, int64((ts-float64(sec))*1e9)).Local().Format("Mon, 02 Jan 2006 15:04:05 MST")
}

// formatChangelog is koji.util.formatChangelog: "* <date> <author>",
// the text and a blank line per entry, the date as "Mon Jan 02 2006".
func formatChangelog(entries []map[string]any) string {
	var b strings.Builder
	for _, e := range entries {
		date := pyText(e["date"])
		if t, err := time.Parse(time.DateTime, date[:min(len(date), len(time.DateTime))]); err == nil {
			date = t.Format("Mon Jan 02 2006")
		}
		fmt.Fprintf(&b, "* %s %s\n%s\n\n", date, pyText(e["author"]), pyText(e["text"]))
	}
	return b.String()
}

// Handle runs handler(recipients, build, target, weburl).
func (h BuildNotification) Handle(ctx context.Context, t *Task) (any, error) {
	a, err := t.args([]string{"recipients", "build", "target", "weburl"}, 4)
	if err != nil {
		return nil, err
	}
	recipients, err := stringList(t.Method, a["recipients"])
	if err != nil {
		return nil, err
	}
	if len(recipients) == 0 {
		t.Logger.Debug("builder: no recipients, not sending notifications")
		return nil, nil
	}
	build, ok := a["build"].(map[string]any)
	if !ok {
		return nil, Fail(koji.ErrParameter, "buildNotification: build must be a struct, not %T", a["build"])
	}
	buildID, ok1 := build["id"].(int64)
	taskID, ok2 := build["task_id"].(int64)
	state, ok3 := build["state"].(int64)
	if !ok1 || !ok2 || !ok3 || state < 0 || int(state) >= len(buildStates) {
		return nil, Fail(koji.ErrGeneric, "buildNotification: the build needs an id, a task_id and a state: %v", build)
	}
	weburl := pyText(a["weburl"])
	nvr := buildLabel(build)
	owner := pyText(build["owner_name"])
	destTag := "None"
	if target, ok := a["target"].(map[string]any); ok {
		destTag = pyText(target["dest_tag_name"])
	}
	status := buildStates[state]
	tasks, err := taskData(ctx, t.Client, int(taskID), nil)
	if err != nil {
		return nil, err
	}
	var cancelInfo, failureInfo string
	switch status {
	case "canceled":
		// the buildNotification task's owner is who canceled the build
		info, err := t.Client.GetTaskInfo(ctx, t.ID, nil)
		if err != nil {
			return nil, err
		}
		if info != nil && info.Owner != 0 {
			var u map[string]any
			if err := t.Client.Call(ctx, "getUser", &u, info.Owner); err != nil {
				return nil, err
			}
			cancelInfo = "\r\nCanceled by: " + pyText(u["name"])
		}
	case "failed":
		i := slices.IndexFunc(tasks, func(nt *notifyTask) bool { return nt.id == int(taskID) })
		if i < 0 {
			return nil, Fail(koji.ErrGeneric, "buildNotification: no task %d", taskID)
		}
		var hosts []string
		for _, nt := range tasks {
			if nt.hasHost && nt.state == "failed" {
				hosts = append(hosts, fmt.Sprintf("%s (%s)", nt.host, nt.arch))
			}
		}
		failureInfo = fmt.Sprintf("\r\n%s (%d) failed on %s:\r\n  %s", nvr, buildID, strings.Join(hosts, ", "), tasks[i].result)
	}
	failure := cmp.Or(failureInfo, cancelInfo)

	var srpms []string
	for _, nt := range tasks {
		for _, s := range nt.srpms {
			if !slices.Contains(srpms, s) {
				srpms = append(srpms, s)
			}
		}
	}
	slices.Sort(srpms)
	var out strings.Builder
	if len(srpms) > 0 {
		out.WriteString("SRPMS:\r\n")
		for _, s := range srpms {
			out.WriteString("  " + s)
		}
		out.WriteString("\r\n\r\n")
	}
	buildURL := koji.PathInfo{TopDir: t.d.cfg.TopURL}.Build(&koji.Build{Name: pyText(build["name"]),
		Version: pyText(build["version"]), Release: pyText(build["release"]), VolumeName: volumeName(build)})
	for _, st := range []string{"failed", "canceled", "closed"} {
		var these []*notifyTask
		for _, nt := range tasks {
			if nt.state == st {
				these = append(these, nt)
			}
		}
		if len(these) == 0 {
			continue
		}
		fmt.Fprintf(&out, "%s%s tasks:\r\n%s-------\r\n\r\n", strings.ToUpper(st[:1]), st[1:], strings.Repeat("-", len(st)))
		for _, nt := range these {
			fmt.Fprintf(&out, "Task %d", nt.id)
			if nt.hasHost {
				fmt.Fprintf(&out, " on %s\r\n", nt.host)
			} else {
				out.WriteString("\r\n")
			}
			fmt.Fprintf(&out, "Task Type: %s\r\n", nt.label)
			if len(nt.logs) > 0 {
				// kojid compares the task list with 'closed', never equal:
				// the logs are always the web's getfile links.
				out.WriteString("logs:\r\n")
				for _, l := range nt.logs {
					fmt.Fprintf(&out, " %s/getfile?taskID=%d&name=%s&volume=%s\r\n", weburl, nt.id, l[0], l[1])
				}
			}
			if len(nt.rpms) > 0 {
				out.WriteString("rpms:\r\n")
				for _, r := range nt.rpms {
					fmt.Fprintf(&out, " %s\r\n", strings.Join([]string{buildURL, nt.buildArch, r}, "/"))
				}
			}
			if len(nt.misc) > 0 {
				out.WriteString("misc:\r\n")
				for _, m := range nt.misc {
					fmt.Fprintf(&out, " %s/getfile?taskID=%d&name=%s&volume=%s\r\n", weburl, nt.id, m[0], m[1])
				}
			}
			out.WriteString("\r\n")
		}
		out.WriteString("\r\n")
	}

	var entries []map[string]any
	if err := t.Client.CallKw(ctx, "getChangelogEntries", &entries, []any{buildID},
		map[string]any{"queryOpts": map[string]any{"limit": 3}}); err != nil {
		return nil, err
	}
	changelog := strings.ReplaceAll(formatChangelog(entries), "\n", "\r\n")
	if changelog != "" {
		changelog = "Changelog:\r\n" + changelog
	}
	toAddrs := strings.Join(recipients, ", ")
	subject := fmt.Sprintf("Package: %s Tag: %s Status: %s Built by: %s", nvr, destTag, status, owner)
	msg := h.Mail.head(subject, toAddrs) +
		"X-Koji-Tag: " + destTag + "\r\n" +
		"X-Koji-Package: " + pyText(build["package_name"]) + "\r\n" +
		"X-Koji-Builder: " + owner + "\r\n" +
		"X-Koji-Status: " + status + "\r\n" +
		"X-Koji-Draft: " + pyBool(build["draft"]) + "\r\n" +
		"\r\n" +
		"Package: " + nvr + "\r\n" +
		"Tag: " + destTag + "\r\n" +
		"Status: " + status + cancelInfo + "\r\n" +
		"Built by: " + owner + "\r\n" +
		fmt.Sprintf("ID: %d\r\n", buildID) +
		"Started: " + formatTimeLong(build["creation_ts"]) + "\r\n" +
		"Finished: " + formatTimeLong(build["completion_ts"]) + "\r\n" +
		changelog + "\r\n" +
		failure + "\r\n" +
		out.String() + "\r\n" +
		fmt.Sprintf("Task Info: %s/taskinfo?taskID=%d\r\n", weburl, taskID) +
		fmt.Sprintf("Build Info: %s/buildinfo?buildID=%d\r\n", weburl, buildID)
	if err := h.Mail.send(ctx, recipients, msg); err != nil {
		return nil, err
	}
	return fmt.Sprintf("sent notification of build %d to: %s", buildID, toAddrs), nil
}

// volumeName is the build's volume_name, DEFAULT when it has none.
func volumeName(b map[string]any) string {
	if v, ok := b["volume_name"].(string); ok && v != "" {
		return v
	}
	return "DEFAULT"
}
