package hubserver

import (
	"context"
	"errors"
	"regexp"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// channelMethods are upstream's channel administration methods; the
// reads and host membership are in hostMethods.
func (k *Koji) channelMethods() []Method {
	return []Method{
		{
			Name: "addChannel", PyName: "add_channel",
			Args: []Arg{{Name: "channel_name"}, {Name: "description", Default: None}},
			Func: addChannel,
		},
		{
			Name: "editChannel", PyName: "edit_channel",
			Args: []Arg{{Name: "channelInfo"}}, VarKw: "kw",
			Func: editChannel,
		},
		{
			Name: "renameChannel", PyName: "rename_channel",
			Args: []Arg{{Name: "old"}, {Name: "new"}},
			Func: func(ctx context.Context, old, new any) error {
				_, err := editChannel(ctx, old, map[string]any{"name": new})
				return err
			},
		},
		{
			Name: "removeChannel", PyName: "remove_channel",
			Args: []Arg{{Name: "channel_name"}, {Name: "force", Default: false}},
			Func: removeChannel,
		},
		{
			Name: "enableChannel", PyName: "RootExports.enableChannel", Bound: true,
			Args: []Arg{{Name: "channelname"}, {Name: "comment", Default: None}},
			Func: func(ctx context.Context, channelname, comment any) error {
				return setChannelEnabled(ctx, channelname, true, comment)
			},
		},
		{
			Name: "disableChannel", PyName: "RootExports.disableChannel", Bound: true,
			Args: []Arg{{Name: "channelname"}, {Name: "comment", Default: None}},
			Func: func(ctx context.Context, channelname, comment any) error {
				return setChannelEnabled(ctx, channelname, false, comment)
			},
		},
	}
}

// Upstream's defaults for hub.conf's MaxNameLengthInternal and
// RegexNameInternal, which govern the names of channels and other
// internal objects.
const maxNameLengthInternal = 256

var regexNameInternal = regexp.MustCompile(`^[A-Za-z0-9/_.+-]+$`)

// verifyNameInternal is upstream's verify_name_internal with the default
// settings.
func verifyNameInternal(name any) (string, error) {
	s, ok := name.(string)
	if !ok {
		return "", fault(koji.ErrGeneric, "Name should be string")
	}
	if len([]rune(s)) > maxNameLengthInternal {
		return "", fault(koji.ErrGeneric, "Name %s is too long. Max length is %d characters", s, maxNameLengthInternal)
	}
	if !regexNameInternal.MatchString(s) {
		return "", fault(koji.ErrGeneric, "Name %s does not match RegexNameInternal value", s)
	}
	return s, nil
}

// channelExists faults as upstream does when a channel of that name exists.
func channelExists(ctx context.Context, tx *store.Tx, name string) error {
	c, err := lookupChannel(ctx, tx, name)
	if err != nil {
		return err
	}
	if c != nil {
		return fault(koji.ErrGeneric, "channel %s already exists (id=%d)", c.Name, c.ID)
	}
	return nil
}

// addChannel creates an enabled channel and returns its id.
func addChannel(ctx context.Context, channelName, description any) (int64, error) {
	if err := assertPerm(ctx, "admin"); err != nil {
		return 0, err
	}
	name, err := verifyNameInternal(channelName)
	if err != nil {
		return 0, err
	}
	desc, err := checkString(description, true)
	if err != nil {
		return 0, err
	}
	tx := storeTx(ctx)
	if err := channelExists(ctx, tx, name); err != nil {
		return 0, err
	}
	return tx.CreateChannel(ctx, name, desc)
}

// editChannel changes a channel's name, description and comment and
// reports whether anything changed; other keywords are ignored, as
// upstream ignores them.
func editChannel(ctx context.Context, channelInfo any, kw map[string]any) (bool, error) {
	if err := assertPerm(ctx, "admin"); err != nil {
		return false, err
	}
	tx := storeTx(ctx)
	c, err := lookupChannel(ctx, tx, channelInfo)
	if err != nil {
		return false, err
	}
	if c == nil {
		return false, fault(koji.ErrGeneric, "query returned no rows")
	}
	current := map[string]any{"name": c.Name, "description": c.Description, "comment": c.Comment}
	var changed []string
	for _, f := range []string{"description", "comment", "name"} {
		if v, ok := kw[f]; ok && !sameValue(v, current[f]) {
			changed = append(changed, f)
		}
	}
	if len(changed) == 0 {
		return false, nil
	}
	var edit store.ChannelEdit
	if v := kw["name"]; v != nil && v != "" {
		// As upstream, a name is checked (and must be free) whenever one
		// is given, even when only another field changes.
		name, err := verifyNameInternal(v)
		if err != nil {
			return false, err
		}
		if err := channelExists(ctx, tx, name); err != nil {
			return false, err
		}
	}
	for _, f := range []string{"description", "comment"} {
		if v, ok := kw[f]; ok {
			if _, err := checkString(v, false); err != nil {
				return false, err
			}
		}
	}
	for _, f := range changed {
		switch f {
		case "name":
			s, ok := kw["name"].(string)
			if !ok {
				return false, fault(koji.ErrGeneric, "Name should be string")
			}
			edit.Name = &s
		case "description":
			s := kw[f].(string)
			p := &s
			edit.Description = &p
		case "comment":
			s := kw[f].(string)
			p := &s
			edit.Comment = &p
		}
	}
	return true, tx.EditChannel(ctx, c.ID, edit)
}

// sameValue is Python's == between a keyword argument and a channel
// column (a string or a *string).
func sameValue(v, col any) bool {
	switch c := col.(type) {
	case string:
		s, ok := v.(string)
		return ok && s == c
	case *string:
		if c == nil {
			return v == nil
		}
		s, ok := v.(string)
		return ok && s == *c
	}
	return false
}

// removeChannel deletes a channel no task was ever placed in; one with
// hosts only with force, unsubscribing them (history included).
func removeChannel(ctx context.Context, channelName any, force any) error {
	if err := assertPerm(ctx, "admin"); err != nil {
		return err
	}
	tx := storeTx(ctx)
	c, err := lookupChannel(ctx, tx, channelName)
	if err != nil {
		return err
	}
	if c == nil {
		return fault(koji.ErrGeneric, "No such channel: %s", pyFormat(channelName))
	}
	if used, err := tx.ChannelHasTasks(ctx, c.ID); err != nil {
		return err
	} else if used {
		return fault(koji.ErrGeneric, "channel %s has task references", pyFormat(channelName))
	}
	if hosts, err := tx.ChannelHasHosts(ctx, c.ID); err != nil {
		return err
	} else if hosts && !xmlrpc.Truthy(force) {
		return fault(koji.ErrGeneric, "channel %s has host references", pyFormat(channelName))
	}
	err = tx.DeleteChannel(ctx, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return fault(koji.ErrGeneric, "No such channel: %s", pyFormat(channelName))
	}
	return err
}

// setChannelEnabled enables or disables a channel and sets its comment
// (None clears it), as upstream's set_channel_enabled does.
func setChannelEnabled(ctx context.Context, channelname any, enabled bool, comment any) error {
	if err := assertPerm(ctx, "host"); err != nil {
		return err
	}
	text, err := checkString(comment, true)
	if err != nil {
		return err
	}
	tx := storeTx(ctx)
	c, err := lookupChannel(ctx, tx, channelname)
	if err != nil {
		return err
	}
	if c == nil {
		return fault(koji.ErrGeneric, "No such channel: %s", pyFormat(channelname))
	}
	return tx.SetChannelEnabled(ctx, c.ID, enabled, text)
}
