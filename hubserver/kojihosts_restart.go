package hubserver

import (
	"context"
	"errors"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// hostAdminMethods are upstream's getLastHostUpdate, when a host last
// called the hub, and restartHosts, the task that restarts the builders.
func (k *Koji) hostAdminMethods() []Method {
	return []Method{
		{
			Name: "getLastHostUpdate", PyName: "RootExports.getLastHostUpdate", Bound: true,
			Args: []Arg{{Name: "hostID"}, {Name: "ts", Default: false}},
			Doc: "Return the latest update timestamp for the host\n\n" +
				"        The timestamp represents the last time the host with the given\n" +
				"        ID contacted the hub. Returns None if the host has never contacted\n" +
				"        the hub.",
			Func: getLastHostUpdate,
		},
		{
			Name: "restartHosts", PyName: "RootExports.restartHosts", Bound: true,
			Args: []Arg{{Name: "priority", Default: int64(5)}, {Name: "options", Default: None}},
			Doc: "Spawns restartHosts task\n\n" +
				"        :param int priority: task priority\n" +
				"        :param dict options: additional task arguments (see restartHosts task)\n\n" +
				"        :returns: task ID\n        ",
			Func: k.restartHosts,
		},
	}
}

// getLastHostUpdate answers the newest update_time of the sessions of the
// host's user (a datetime, or with ts its epoch seconds), None when the
// host never logged in or does not exist, as upstream. The id is taken as
// Python's int() takes it; a value int() refuses faults ParameterError,
// where upstream's database would refuse it.
func getLastHostUpdate(ctx context.Context, hostID, ts any) (any, error) {
	id, err := convertInt(hostID)
	if err != nil {
		return nil, err
	}
	t, err := storeTx(ctx).HostLastUpdate(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if xmlrpc.Truthy(ts) {
		return pyTS(t), nil
	}
	return pyTime(t), nil
}

// restartHosts makes a restartHosts task owned by the caller, as
// upstream's RootExports.restartHosts: the host permission (or admin) is
// required, and options, a struct of the task's keyword arguments, is its
// only argument when given.
func (k *Koji) restartHosts(ctx context.Context, priority, options any) (int64, error) {
	if err := assertPerm(ctx, "host"); err != nil {
		return 0, err
	}
	arglist := []any{}
	switch options.(type) {
	case nil:
	case map[string]any:
		arglist = append(arglist, options)
	default:
		return 0, fault(koji.ErrParameter, "Invalid type of options: <class '%s'>", pyTypeName(options))
	}
	p, err := convertInt(priority)
	if err != nil {
		return 0, err
	}
	n := int(p)
	return k.makeTask(ctx, "restartHosts", arglist, taskOpts{Priority: &n})
}
