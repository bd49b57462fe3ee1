package hubserver

import (
	"context"
	"errors"

	"github.com/gokoji/gokoji/xmlrpc"
)

// multicallSavepoint is the savepoint taken around each multicall entry,
// named as upstream names it.
const multicallSavepoint = "multiCall_loop"

// multicallMethods declares multiCall and system.multicall: one handler
// under both names, outside the registry as upstream keeps it
// (ModXMLRPCRequestHandler.multiCall(self, calls)).
func (h *Hub) multicallMethods() (map[string]*binding, error) {
	out := make(map[string]*binding, 2)
	for _, name := range []string{"multiCall", "system.multicall"} {
		b, err := newBinding(Method{
			Name: name, PyName: "ModXMLRPCRequestHandler.multiCall", Bound: true,
			Args: []Arg{{Name: "calls"}},
			Func: h.multicall,
		})
		if err != nil {
			return nil, err
		}
		out[name] = b
	}
	return out, nil
}

// multicall runs the calls of a multicall in order, as upstream's
// ModXMLRPCRequestHandler.multiCall: each entry runs between a savepoint
// and its release, a failing entry is rolled back to its savepoint and
// answered with a fault struct, and the multicall itself faults only when
// the transaction fails or ctx ends. After each entry an EventTx is told
// to start a new event. The AfterCommit functions of a rolled-back entry
// are dropped with its writes, and the before-commit hooks an entry
// registered run at its end (a failing one fails the entry), as upstream
// commits after each entry; an entry that Parks is re-run at once with
// ParkExpired true.
//
// Nested multicalls run as upstream runs them, recursively: an entry named
// multiCall or system.multicall answers [results of the inner calls], its
// savepoints nested in the outer entry's. The decoder's depth limit bounds
// the nesting.
func (h *Hub) multicall(ctx context.Context, calls xmlrpc.RawValue) ([]xmlrpc.MulticallResult, error) {
	entries, err := xmlrpc.DecodeMulticall(calls)
	if err != nil {
		return nil, err
	}
	tx := TxFrom(ctx)
	c := callFrom(ctx)
	results := make([]xmlrpc.MulticallResult, len(entries))
	for i, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if tx != nil {
			if err := tx.Savepoint(ctx, multicallSavepoint); err != nil {
				return nil, err
			}
		}
		var v xmlrpc.RawValue
		mark, scope := 0, 0
		if c != nil {
			mark, scope = c.mark(), c.enter()
		}
		res, err := h.multicallEntry(ctx, e)
		if err == nil {
			v, err = xmlrpc.MarshalValue(res)
		}
		if err == nil && c != nil {
			err = c.beforeCommit(ctx, mark)
		}
		if c != nil {
			c.leave(scope)
		}
		if err != nil {
			results[i].Fault = entryFault(err)
			if c != nil {
				c.drop(mark)
			}
			if tx != nil {
				if err := tx.RollbackToSavepoint(ctx, multicallSavepoint); err != nil {
					return nil, err
				}
			}
		} else {
			results[i].Value = v
		}
		if tx != nil {
			if err := tx.ReleaseSavepoint(ctx, multicallSavepoint); err != nil {
				return nil, err
			}
		}
		if etx, ok := tx.(EventTx); ok {
			if err := etx.NewEvent(ctx); err != nil {
				return nil, err
			}
		}
	}
	return results, nil
}

// multicallEntry dispatches one entry of a multicall; the session was
// validated once for the whole request.
func (h *Hub) multicallEntry(ctx context.Context, e xmlrpc.MulticallEntry) (any, error) {
	if e.Err != nil {
		return nil, e.Err
	}
	b := h.resolve(e.Call.Method)
	if b == nil {
		return nil, invalidMethod(e.Call.Method)
	}
	res, err := h.invoke(ctx, b, e.Call.Params, e.Call.Kwargs)
	var p *parkError
	if errors.As(err, &p) && !ParkExpired(ctx) {
		// Waiting would hold the multicall's transaction: answer now.
		res, err = h.invoke(context.WithValue(ctx, parkExpiredKey{}, true), b, e.Call.Params, e.Call.Kwargs)
	}
	if errors.As(err, &p) {
		return nil, errParkedTwice
	}
	return res, err
}
