package hubserver

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
)

// hostMethods are upstream's host and channel methods: the administrative
// ones (the host permission), the reads, the host-side host.getID and
// host.getHost, and hostAdminMethods.
func (k *Koji) hostMethods() []Method {
	return append([]Method{
		{
			Name: "addHost", PyName: "RootExports.addHost", Bound: true,
			Args: []Arg{{Name: "hostname"}, {Name: "arches"}, {Name: "krb_principal", Default: None}, {Name: "force", Default: false}},
			Func: func(ctx context.Context, hostname string, arches []string, krbPrincipal *string, force bool) (int64, error) {
				// HostPrincipalFormat and AllowedKrbRealms (kojiusers_edit.go).
				p, err := k.hostPrincipal(hostname, krbPrincipal)
				if err != nil {
					return 0, err
				}
				return addHost(ctx, hostname, arches, p, force)
			},
		},
		{
			Name: "editHost", PyName: "RootExports.editHost", Bound: true,
			Args: []Arg{{Name: "hostInfo"}}, VarKw: "kw",
			Func: editHost,
		},
		{
			Name: "enableHost", PyName: "RootExports.enableHost", Bound: true,
			Args: []Arg{{Name: "hostname"}},
			Func: func(ctx context.Context, hostname any) error { return setHostEnabled(ctx, hostname, true) },
		},
		{
			Name: "disableHost", PyName: "RootExports.disableHost", Bound: true,
			Args: []Arg{{Name: "hostname"}},
			Func: func(ctx context.Context, hostname any) error { return setHostEnabled(ctx, hostname, false) },
		},
		{
			Name: "getHost", PyName: "get_host",
			Args: []Arg{{Name: "hostInfo"}, {Name: "strict", Default: false}, {Name: "event", Default: None}},
			Func: getHost,
		},
		{
			Name: "listHosts", PyName: "RootExports.listHosts", Bound: true,
			Args: []Arg{{Name: "arches", Default: None}, {Name: "channelID", Default: None}, {Name: "ready", Default: None},
				{Name: "enabled", Default: None}, {Name: "userID", Default: None}, {Name: "queryOpts", Default: None}},
			Func: listHosts,
		},
		{
			Name: "getChannel", PyName: "get_channel",
			Args: []Arg{{Name: "channelInfo"}, {Name: "strict", Default: false}},
			Func: getChannel,
		},
		{
			Name: "listChannels", PyName: "list_channels",
			Args: []Arg{{Name: "hostID", Default: None}, {Name: "event", Default: None}, {Name: "enabled", Default: None}},
			Func: listChannels,
		},
		{
			Name: "addHostToChannel", PyName: "add_host_to_channel",
			Args: []Arg{{Name: "hostname"}, {Name: "channel_name"}, {Name: "create", Default: false}, {Name: "force", Default: false}},
			Func: addHostToChannel,
		},
		{
			Name: "removeHostFromChannel", PyName: "remove_host_from_channel",
			Args: []Arg{{Name: "hostname"}, {Name: "channel_name"}},
			Func: removeHostFromChannel,
		},
		{
			Name: "host.getID", PyName: "HostExports.getID", Bound: true,
			Func: func(ctx context.Context) (int64, error) {
				h, err := callerHost(ctx)
				if err != nil {
					return 0, err
				}
				return h.ID, nil
			},
		},
		{
			Name: "host.getHost", PyName: "HostExports.getHost", Bound: true,
			Func: func(ctx context.Context) (map[string]any, error) {
				h, err := callerHost(ctx)
				if err != nil {
					return nil, err
				}
				return hostData(h), nil
			},
		},
	}, k.hostAdminMethods()...)
}

// hostData is a host as get_host answers it.
func hostData(h *store.Host) map[string]any {
	out := map[string]any{
		"id": h.ID, "user_id": h.UserID, "name": h.Name, "update_ts": nil, "ready": h.Ready,
		"task_load": h.TaskLoad, "arches": h.Arches, "capacity": h.Capacity,
		"description": h.Description, "comment": h.Comment, "enabled": h.Enabled,
	}
	if h.UpdateTime != nil {
		out["update_ts"] = pyTS(*h.UpdateTime)
	}
	return out
}

// channelData is a channel as get_channel answers it.
func channelData(c *store.Channel) map[string]any {
	return map[string]any{"id": c.ID, "name": c.Name, "description": c.Description, "enabled": c.Enabled, "comment": c.Comment}
}

// pyFormat is Python's "%s" of a decoded XML-RPC value.
func pyFormat(v any) string {
	switch v.(type) {
	case string, int64, int:
		return fmt.Sprint(v)
	}
	return pyRepr(v)
}

// lookupHost finds a host by id or name, or by the id or name member of a
// struct, as get_host does, configured as now or at asOf; nil when there
// is none.
func lookupHost(ctx context.Context, tx *store.Tx, info any, asOf *int64) (*store.Host, error) {
	var h *store.Host
	var err error
	switch v := info.(type) {
	case int64:
		h, err = tx.GetHost(ctx, v, asOf)
	case int:
		h, err = tx.GetHost(ctx, int64(v), asOf)
	case string:
		h, err = tx.GetHostByName(ctx, v, asOf)
	case map[string]any:
		key, ok := v["id"]
		if !ok {
			key, ok = v["name"]
		}
		if !ok {
			return nil, fault(koji.ErrGeneric, "Invalid hostInfo: %s", pyFormat(info))
		}
		return lookupHost(ctx, tx, key, asOf)
	default:
		return nil, fault(koji.ErrGeneric, "Invalid type for hostInfo: %s", pyType(info))
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return h, err
}

// strictHost is lookupHost faulting with wording when there is none.
func strictHost(ctx context.Context, tx *store.Tx, info any, format string) (*store.Host, error) {
	h, err := lookupHost(ctx, tx, info, nil)
	if err == nil && h == nil {
		return nil, fault(koji.ErrGeneric, format, pyFormat(info))
	}
	return h, err
}

// lookupChannel finds a channel by id or name, as get_channel does; nil
// when there is none. Other values fault as upstream's name_or_id_clause.
func lookupChannel(ctx context.Context, tx *store.Tx, info any) (*store.Channel, error) {
	var c *store.Channel
	var err error
	switch v := info.(type) {
	case int64:
		c, err = tx.GetChannel(ctx, v)
	case int:
		c, err = tx.GetChannel(ctx, int64(v))
	case string:
		c, err = tx.GetChannelByName(ctx, v)
	default:
		return nil, fault(koji.ErrParameter, "Invalid name or id value: %s", pyRepr(info))
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return c, err
}

// archPattern is what upstream's parse_arches accepts as one arch.
var archPattern = regexp.MustCompile(`^[\w-]+$`)

// parseArches joins arches with spaces as upstream's parse_arches with
// strict does, faulting on an invalid one.
func parseArches(arches []string) (string, error) {
	list := strings.Fields(strings.ReplaceAll(strings.Join(arches, " "), ",", " "))
	for _, a := range list {
		if !archPattern.MatchString(a) {
			return "", fault(koji.ErrGeneric, "Invalid architecture: %s", a)
		}
	}
	return strings.Join(list, " "), nil
}

func addHost(ctx context.Context, hostname string, arches []string, krbPrincipal *string, force bool) (int64, error) {
	if err := assertPerm(ctx, "host"); err != nil {
		return 0, err
	}
	archList, err := parseArches(arches)
	if err != nil {
		return 0, err
	}
	tx := storeTx(ctx)
	if h, err := lookupHost(ctx, tx, hostname, nil); err != nil {
		return 0, err
	} else if h != nil {
		return 0, fault(koji.ErrGeneric, "host already exists: %s", hostname)
	}
	def, err := tx.GetChannelByName(ctx, "default")
	if err != nil {
		return 0, err
	}
	// The user may exist already: a host that logged in before it was
	// added, as upstream notes.
	u, err := lookupUser(ctx, tx, hostname)
	if err != nil {
		return 0, err
	}
	if u == nil && krbPrincipal != nil && *krbPrincipal != "" {
		if u, err = lookupUser(ctx, tx, map[string]any{"krb_principal": *krbPrincipal}); err != nil {
			return 0, err
		}
	}
	var userID int64
	switch {
	case u == nil:
		userID, err = tx.CreateUser(ctx, store.User{Name: hostname, Status: store.UserStatusNormal, UserType: store.UserTypeHost})
		if err == nil && krbPrincipal != nil && *krbPrincipal != "" {
			err = tx.AddKrbPrincipal(ctx, userID, *krbPrincipal)
		}
		if err != nil {
			return 0, err
		}
	case u.UserType == store.UserTypeHost:
		userID = u.ID
	case force && u.UserType == store.UserTypeNormal:
		if err := tx.SetUserType(ctx, u.ID, store.UserTypeHost); err != nil {
			return 0, err
		}
		userID = u.ID
	default:
		return 0, fault(koji.ErrGeneric, "user %s already exists and it is not a host", hostname)
	}
	creator := callerID(ctx)
	id, err := tx.CreateHost(ctx, userID, hostname, store.HostConfig{Arches: archList, Enabled: true}, creator)
	if err != nil {
		return 0, err
	}
	return id, tx.AddHostChannel(ctx, id, def.ID, creator)
}

// optionalString reads a keyword argument that is a string or None.
func optionalString(name string, v any) (*string, error) {
	switch s := v.(type) {
	case nil:
		return nil, nil
	case string:
		return &s, nil
	}
	return nil, fault(koji.ErrGeneric, "Invalid type for %s: %s", name, pyType(v))
}

func sameString(a, b *string) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// editHost changes a host's arches, capacity, description and comment,
// reporting whether anything changed; other keywords are ignored, as
// upstream ignores them.
func editHost(ctx context.Context, hostInfo any, kw map[string]any) (bool, error) {
	if err := assertPerm(ctx, "host"); err != nil {
		return false, err
	}
	tx := storeTx(ctx)
	h, err := strictHost(ctx, tx, hostInfo, "Invalid hostInfo: %s")
	if err != nil {
		return false, err
	}
	cfg, changed := h.HostConfig, false
	if v, ok := kw["arches"]; ok {
		s, ok := v.(string)
		if !ok {
			return false, fault(koji.ErrGeneric, "Invalid type for arches: %s", pyType(v))
		}
		if cfg.Arches, err = parseArches([]string{s}); err != nil {
			return false, err
		}
		changed = changed || cfg.Arches != h.Arches
	}
	if v, ok := kw["capacity"]; ok {
		switch c := v.(type) {
		case float64:
			cfg.Capacity = c
		case int64:
			cfg.Capacity = float64(c)
		default:
			return false, fault(koji.ErrGeneric, "Invalid type for capacity: %s", pyType(v))
		}
		if cfg.Capacity <= 1 {
			return false, fault(koji.ErrGeneric, "capacity must be greater than 1: %v", v)
		}
		changed = changed || cfg.Capacity != h.Capacity
	}
	for _, f := range []struct {
		name string
		dst  **string
		old  *string
	}{{"description", &cfg.Description, h.Description}, {"comment", &cfg.Comment, h.Comment}} {
		v, ok := kw[f.name]
		if !ok {
			continue
		}
		if *f.dst, err = optionalString(f.name, v); err != nil {
			return false, err
		}
		changed = changed || !sameString(*f.dst, f.old)
	}
	if !changed {
		return false, nil
	}
	return true, tx.SetHostConfig(ctx, h.ID, cfg, callerID(ctx))
}

// setHostEnabled enables or disables a host with a new host_config
// version, as upstream's set_host_enabled.
func setHostEnabled(ctx context.Context, hostname any, enabled bool) error {
	if err := assertPerm(ctx, "host"); err != nil {
		return err
	}
	tx := storeTx(ctx)
	h, err := strictHost(ctx, tx, hostname, "host does not exist: %s")
	if err != nil {
		return err
	}
	cfg := h.HostConfig
	cfg.Enabled = enabled
	return tx.SetHostConfig(ctx, h.ID, cfg, callerID(ctx))
}

func getHost(ctx context.Context, hostInfo any, strict bool, event *int64) (map[string]any, error) {
	h, err := lookupHost(ctx, storeTx(ctx), hostInfo, event)
	if err != nil {
		return nil, err
	}
	if h == nil {
		if strict {
			return nil, fault(koji.ErrGeneric, "Invalid hostInfo: %s", pyFormat(hostInfo))
		}
		return nil, nil
	}
	return hostData(h), nil
}

// listHosts selects hosts as upstream's listHosts. queryOpts is accepted
// and ignored, as Koji 1.35 ignores it.
func listHosts(ctx context.Context, arches []string, channelID any, ready, enabled *bool, userID any, _ any) ([]map[string]any, error) {
	tx := storeTx(ctx)
	var channel *store.Channel
	if channelID != nil {
		c, err := lookupChannel(ctx, tx, channelID)
		if err != nil {
			return nil, err
		}
		if c == nil {
			return nil, fault(koji.ErrGeneric, "No such entry in table channels: %s", pyFormat(channelID))
		}
		channel = c
	}
	var user *store.User
	if userID != nil {
		u, err := strictUser(ctx, tx, userID)
		if err != nil {
			return nil, err
		}
		user = u
	}
	hosts, err := tx.ListHosts(ctx, nil)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for i := range hosts {
		h := &hosts[i]
		if arches != nil && !slices.ContainsFunc(strings.Fields(h.Arches), func(a string) bool { return slices.Contains(arches, a) }) ||
			ready != nil && h.Ready != *ready || enabled != nil && h.Enabled != *enabled || user != nil && h.UserID != user.ID {
			continue
		}
		if channel != nil {
			cs, err := tx.HostChannels(ctx, h.ID, nil)
			if err != nil {
				return nil, err
			}
			if !slices.ContainsFunc(cs, func(c store.Channel) bool { return c.ID == channel.ID }) {
				continue
			}
		}
		out = append(out, hostData(h))
	}
	return out, nil
}

func getChannel(ctx context.Context, channelInfo any, strict bool) (map[string]any, error) {
	c, err := lookupChannel(ctx, storeTx(ctx), channelInfo)
	if err != nil {
		return nil, err
	}
	if c == nil {
		if strict {
			return nil, fault(koji.ErrGeneric, "query returned no rows")
		}
		return nil, nil
	}
	return channelData(c), nil
}

// listChannels lists every channel, or the channels of a host (given by
// id or name) now or at event.
func listChannels(ctx context.Context, hostID any, event *int64, enabled *bool) ([]map[string]any, error) {
	tx := storeTx(ctx)
	var cs []store.Channel
	var err error
	switch v := hostID.(type) {
	case nil:
		if event != nil {
			return nil, fault(koji.ErrGeneric, "list_channels with event and not host is not allowed.")
		}
		cs, err = tx.ListChannels(ctx)
	case int64:
		if v == 0 {
			cs, err = tx.ListChannels(ctx)
		} else {
			cs, err = tx.HostChannels(ctx, v, event)
		}
	case string:
		h, herr := strictHost(ctx, tx, v, "Invalid hostInfo: %s")
		if herr != nil {
			return nil, herr
		}
		cs, err = tx.HostChannels(ctx, h.ID, event)
	default:
		return nil, fault(koji.ErrGeneric, "Invalid type for hostInfo: %s", pyType(hostID))
	}
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for i := range cs {
		if enabled == nil || cs[i].Enabled == *enabled {
			out = append(out, channelData(&cs[i]))
		}
	}
	return out, nil
}

// hostChannel resolves the host and channel named by the channel
// membership methods.
func hostChannel(ctx context.Context, tx *store.Tx, hostname any, channelName string, create bool) (*store.Host, *store.Channel, bool, error) {
	h, err := strictHost(ctx, tx, hostname, "host does not exist: %s")
	if err != nil {
		return nil, nil, false, err
	}
	c, err := lookupChannel(ctx, tx, channelName)
	if err != nil {
		return nil, nil, false, err
	}
	if c == nil {
		if !create {
			return nil, nil, false, fault(koji.ErrGeneric, "channel does not exist: %s", channelName)
		}
		id, err := tx.CreateChannel(ctx, channelName, nil)
		if err != nil {
			return nil, nil, false, err
		}
		c = &store.Channel{ID: id, Name: channelName, Enabled: true}
	}
	cs, err := tx.HostChannels(ctx, h.ID, nil)
	if err != nil {
		return nil, nil, false, err
	}
	return h, c, slices.ContainsFunc(cs, func(x store.Channel) bool { return x.ID == c.ID }), nil
}

func addHostToChannel(ctx context.Context, hostname any, channelName string, create, force bool) error {
	if err := assertPerm(ctx, "host"); err != nil {
		return err
	}
	tx := storeTx(ctx)
	h, c, member, err := hostChannel(ctx, tx, hostname, channelName, create)
	if err != nil {
		return err
	}
	if !create && !force && !c.Enabled {
		return fault(koji.ErrGeneric, "channel %s is disabled", channelName)
	}
	if member {
		return fault(koji.ErrGeneric, "host %s is already subscribed to the %s channel", pyFormat(hostname), channelName)
	}
	return tx.AddHostChannel(ctx, h.ID, c.ID, callerID(ctx))
}

func removeHostFromChannel(ctx context.Context, hostname any, channelName string) error {
	if err := assertPerm(ctx, "host"); err != nil {
		return err
	}
	tx := storeTx(ctx)
	h, c, member, err := hostChannel(ctx, tx, hostname, channelName, false)
	if err != nil {
		return err
	}
	if !member {
		return fault(koji.ErrGeneric, "host %s is not subscribed to the %s channel", pyFormat(hostname), channelName)
	}
	return tx.RemoveHostChannel(ctx, h.ID, c.ID, callerID(ctx))
}

// callerHost returns the host the caller's session belongs to, faulting
// as upstream's Host() and Host.verify(): the caller must be a host's
// user, in an exclusive session.
func callerHost(ctx context.Context) (*store.Host, error) {
	s := SessionFrom(ctx)
	if s == nil || s.UserID == 0 {
		return nil, fault(koji.ErrAuth, "Not logged-in")
	}
	tx := storeTx(ctx)
	h, err := tx.GetHostByUser(ctx, int64(s.UserID))
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault(koji.ErrAuth, "User %d is not a host", s.UserID)
	}
	if err != nil {
		return nil, err
	}
	row, err := tx.GetSession(ctx, int64(s.ID))
	if err != nil {
		return nil, err
	}
	if ex, err := sessionExclusive(ctx, tx, row); err != nil {
		return nil, err
	} else if !ex {
		return nil, fault(koji.ErrAuth, "This method requires an exclusive session")
	}
	return h, nil
}
