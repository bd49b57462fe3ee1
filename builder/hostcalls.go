package builder

import (
	"context"
	"time"

	"github.com/gokoji/gokoji/koji"
)

// The host.* calls package koji's HostAPI does not make.

// freeTasks gives open tasks of this host back to the scheduler
// (host.freeTasks); the hub skips those not open here.
func freeTasks(ctx context.Context, c *koji.Client, ids []int) error {
	return c.Call(ctx, "host.freeTasks", nil, ids)
}

// refuseTask refuses an assigned or open task of this host
// (host.refuseTask), softly or for good.
func refuseTask(ctx context.Context, c *koji.Client, id int, soft bool, msg string) error {
	kwargs := struct {
		Soft bool   `xmlrpc:"soft"`
		Msg  string `xmlrpc:"msg"`
	}{soft, msg}
	return c.CallKw(ctx, "host.refuseTask", nil, []any{id}, kwargs)
}

// waitTasks is host.waitTasks (gokoji's long-poll host.getTasks): the
// tasks assigned to this host, waiting up to timeout for one.
func waitTasks(ctx context.Context, c *koji.Client, timeout time.Duration) ([]*koji.Task, error) {
	var tasks []*koji.Task
	err := c.Call(ctx, "host.waitTasks", &tasks, timeout.Seconds())
	return tasks, err
}
