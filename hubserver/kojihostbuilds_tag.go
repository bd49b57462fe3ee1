package hubserver

import (
	"context"
	"slices"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// hostTagMethods are the builder's side of a tagBuild task and the tag
// notification a builder asks for.
func (k *Koji) hostTagMethods() []Method {
	return []Method{
		{
			Name: "host.tagBuild", PyName: "HostExports.tagBuild", Bound: true,
			Args: []Arg{{Name: "task_id"}, {Name: "tag"}, {Name: "build"}, {Name: "force", Default: false},
				{Name: "fromtag", Default: None}},
			Doc: "Tag a build (host version)\n\n        This tags as the user who owns the task\n\n" +
				"        If fromtag is specified, also untag the package (i.e. move in a single\n        transaction)\n\n" +
				"        No return value\n        ",
			Func: k.hostTagBuild,
		},
		{
			Name: "host.tagNotification", PyName: "HostExports.tagNotification", Bound: true,
			Args: []Arg{{Name: "is_successful"}, {Name: "tag_id"}, {Name: "from_id"}, {Name: "build_id"}, {Name: "user_id"},
				{Name: "ignore_success", Default: false}, {Name: "failure_msg", Default: ""}},
			Doc: "Create a tag notification message.\n        Handles creation of tagNotification tasks for hosts.",
			Func: func(ctx context.Context, ok, tagID, fromID, buildID, userID, ignoreSuccess, failureMsg any) error {
				if _, err := callerHost(ctx); err != nil {
					return err
				}
				_, err := k.tagNotification(ctx, ok, tagID, fromID, buildID, userID, ignoreSuccess, failureMsg)
				return err
			},
		},
	}
}

// hostTagBuild is HostExports.tagBuild: the tagging of a tagBuild task,
// as the task's owner (so without the tag access check upstream's
// _tag_build skips for a given user): the tag policy for the task's
// owner (upstream's default, missing, allows), the package listed and
// not blocked (forced by an admin host, added), then an untag from
// fromtag and the tag.
func (k *Koji) hostTagBuild(ctx context.Context, taskIDArg, tag, build, force, fromtag any) error {
	task, err := hostTask(ctx, taskIDArg)
	if err != nil {
		return err
	}
	tx := storeTx(ctx)
	row, err := lookupBuild(ctx, tx, build, true)
	if err != nil {
		return err
	}
	binfo, err := buildInfo(row)
	if err != nil {
		return err
	}
	t, err := getTag(ctx, tag, true, nil, false)
	if err != nil {
		return err
	}
	var from map[string]any
	if xmlrpc.Truthy(fromtag) {
		if from, err = getTag(ctx, fromtag, true, nil, false); err != nil {
			return err
		}
	}
	// The policy data as upstream's: the tag as given, the build's
	// info, fromtag by name.
	data := map[string]any{"tag": tag, "build": binfo, "fromtag": fromtag, "user_id": task.Owner, "operation": "tag"}
	if from != nil {
		if _, isName := fromtag.(string); !isName {
			data["fromtag"] = from["name"]
		}
	}
	if fromtag != nil {
		data["operation"] = "move"
	}
	if err := k.assertPolicy(ctx, "tag", data, xmlrpc.Truthy(force)); err != nil {
		return err
	}
	tagID := t["id"].(int64)
	entry, err := pkgInList(ctx, tx, tagID, row.PkgID, false)
	if err != nil {
		return err
	}
	pkgErr := ""
	if entry == nil {
		pkgErr = "Package " + row.PackageName + " not in list for " + pyFormat(tag)
	} else if entry["blocked"] == true {
		pkgErr = "Package " + row.PackageName + " blocked in " + pyFormat(tag)
	}
	if pkgErr != "" {
		admin, err := callerIsAdmin(ctx)
		if err != nil {
			return err
		}
		if !xmlrpc.Truthy(force) || !admin {
			return fault(koji.ErrTag, "%s", pkgErr)
		}
		if err := k.pkglistAdd(ctx, tagID, row.PkgID, nil, false, nil, true, false); err != nil {
			return err
		}
	}
	owner, err := strictUser(ctx, tx, task.Owner)
	if err != nil {
		return err
	}
	user, err := userData(ctx, tx, owner, true)
	if err != nil {
		return err
	}
	if from != nil {
		d := &tagBuildData{tag: from, build: binfo, user: user, row: row}
		if err := k.directUntagBuild(ctx, d, true, force); err != nil {
			return err
		}
		tx.NextEvent()
	}
	return k.directTagBuild(ctx, &tagBuildData{tag: t, build: binfo, user: user, row: row}, force)
}

// NotificationConfig is upstream's options for the mail notifications the
// builders send (kojid's tagNotification and buildNotification tasks).
// The zero value is upstream's defaults: every build's end and every
// tagging notify the build's owner, the package's owner in the tag and
// the users subscribed to them, less those who opted out.
type NotificationConfig struct {
	// Disable is upstream's DisableNotifications: the hub makes no
	// notification tasks.
	Disable bool
	// SkipSuccess is upstream's NotifyOnSuccess = False: a build or
	// tagging that went well notifies only the users subscribed to its
	// package or tag (createNotification), not the build's and package's
	// owners.
	SkipSuccess bool
	// EmailDomain is upstream's EmailDomain, the domain of the addresses
	// made of user names; empty is upstream's None ("<user>@None").
	EmailDomain string
	// WebURL is upstream's KojiWebURL, the web pages the build
	// notifications link to; "http://localhost/koji" when empty.
	WebURL string
}

// tagNotification is upstream's tag_notification: unless notifications
// are disabled, the build is missing, there are no recipients (see
// notificationRecipients), or the tagging succeeded and ignoreSuccess is
// set, a tagNotification task for the recipients of the tag and the
// source tag. It returns the task's id, 0 for none.
func (k *Koji) tagNotification(ctx context.Context, ok, tagID, fromID, buildID, userID, ignoreSuccess, failureMsg any) (int64, error) {
	if k.cfg.Notifications.Disable {
		return 0, nil
	}
	tx := storeTx(ctx)
	if userID != nil && xmlrpc.Truthy(userID) {
		if _, isInt := userID.(int64); !isInt {
			if _, err := strictUser(ctx, tx, userID); err != nil {
				return 0, err
			}
		}
	}
	state := store.BuildComplete
	if !xmlrpc.Truthy(ok) {
		state = store.BuildFailed
	}
	row, err := lookupBuild(ctx, tx, buildID, false)
	if err != nil || row == nil {
		return 0, err
	}
	var recipients []string
	for _, id := range []any{tagID, fromID} {
		if !xmlrpc.Truthy(id) {
			continue
		}
		t, err := getTag(ctx, id, false, nil, false)
		if err != nil {
			return 0, err
		}
		if t == nil {
			continue
		}
		r, err := k.notificationRecipients(ctx, row, t["id"].(int64), state)
		if err != nil {
			return 0, err
		}
		for _, e := range r {
			if !slices.Contains(recipients, e) {
				recipients = append(recipients, e)
			}
		}
	}
	if len(recipients) == 0 || xmlrpc.Truthy(ok) && xmlrpc.Truthy(ignoreSuccess) {
		return 0, nil
	}
	list := make([]any, len(recipients))
	for i, r := range recipients {
		list[i] = r
	}
	return k.makeTask(ctx, "tagNotification", []any{list, ok, tagID, fromID, buildID, userID, ignoreSuccess, failureMsg}, taskOpts{})
}

// buildNotification is upstream's build_notification for a finished
// build of a task: unless notifications are disabled or there are no
// recipients, a buildNotification task for them, with the build target
// of a build task and the web URL.
func (k *Koji) buildNotification(ctx context.Context, taskID, buildID int64) error {
	if k.cfg.Notifications.Disable {
		return nil
	}
	tx := storeTx(ctx)
	row, err := lookupBuild(ctx, tx, buildID, true)
	if err != nil {
		return err
	}
	if row.State == store.BuildBuilding {
		return fault(koji.ErrGeneric, "never send notifications for incomplete builds")
	}
	var target any
	var destTag int64
	t, err := getTask(ctx, taskID)
	if err != nil {
		return err
	}
	if t.Method == "build" || t.Method == "maven" {
		req, err := decodeRequest(t.Request)
		if err != nil {
			return err
		}
		if len(req) > 1 && xmlrpc.Truthy(req[1]) {
			if target, err = getBuildTarget(ctx, req[1], nil, false); err != nil {
				return err
			}
			if m, ok := target.(map[string]any); ok {
				destTag, _ = m["dest_tag"].(int64)
			}
		}
	}
	recipients, err := k.notificationRecipients(ctx, row, destTag, row.State)
	if err != nil || len(recipients) == 0 {
		return err
	}
	info, err := buildInfo(row)
	if err != nil {
		return err
	}
	list := make([]any, len(recipients))
	for i, r := range recipients {
		list[i] = r
	}
	webURL := k.cfg.Notifications.WebURL
	if webURL == "" {
		webURL = "http://localhost/koji"
	}
	_, err = k.makeTask(ctx, "buildNotification", []any{list, info, target, webURL}, taskOpts{})
	return err
}
