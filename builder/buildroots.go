package builder

import (
	"context"
	"errors"
	"fmt"

	"github.com/gokoji/gokoji/koji"
)

// The buildroot states (koji.BR_STATES).
const (
	brInit     = 0
	brWaiting  = 1
	brBuilding = 2
	brExpired  = 3
)

// A hostBuildroot is a buildroot as listBuildroots lists it.
type hostBuildroot struct {
	ID      int    `xmlrpc:"id"`
	TaskID  *int   `xmlrpc:"task_id"`
	TagName string `xmlrpc:"tag_name"`
	Arch    string `xmlrpc:"arch"`
}

// activeBuildroots are the host's buildroots not expired (INIT, WAITING
// or BUILDING), or none when the hub has no buildroots.
func (d *Daemon) activeBuildroots(ctx context.Context) ([]hostBuildroot, error) {
	if !d.buildroots {
		return nil, nil
	}
	var brs []hostBuildroot
	err := d.mon.CallKw(ctx, "listBuildroots", &brs, nil, map[string]any{
		"hostID": d.hostID, "state": []int{brInit, brWaiting, brBuilding}})
	if err != nil {
		return nil, fmt.Errorf("listBuildroots: %w", err)
	}
	return brs, nil
}

// expireBuildroots is kojid's updateBuildroots: the buildroots whose
// task is not running here, open on the hub (it was canceled, failed, or
// freed as stale while its handler made the buildroot) or without a task
// are expired (host.setBuildRootState EXPIRED), as the handler would
// have done had it ended normally. open are the host's open tasks, as
// the hub listed them after brs.
func (d *Daemon) expireBuildroots(ctx context.Context, brs []hostBuildroot, open []koji.HostTask) error {
	if len(brs) == 0 {
		return nil
	}
	onHub := make(map[int]bool, len(open))
	for _, o := range open {
		onHub[o.ID] = true
	}
	d.mu.Lock()
	running := func(id int) bool { _, ok := d.running[id]; return ok && onHub[id] }
	var expire []hostBuildroot
	for _, br := range brs {
		if br.TaskID == nil || !running(*br.TaskID) {
			expire = append(expire, br)
		}
	}
	d.mu.Unlock()
	var errs []error
	for _, br := range expire {
		if br.TaskID == nil {
			d.log.Warn("builder: expiring taskless buildroot", "buildroot", br.ID, "tag", br.TagName, "arch", br.Arch)
		} else {
			d.log.Info("builder: expiring buildroot", "buildroot", br.ID, "tag", br.TagName, "arch", br.Arch, "task_id", *br.TaskID)
		}
		if err := d.mon.Call(ctx, "host.setBuildRootState", nil, br.ID, brExpired); err != nil {
			errs = append(errs, fmt.Errorf("host.setBuildRootState %d EXPIRED: %w", br.ID, err))
		}
	}
	return errors.Join(errs...)
}
