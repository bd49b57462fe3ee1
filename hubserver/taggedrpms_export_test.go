package hubserver

import (
	"context"

	"github.com/gokoji/gokoji/internal/store"
)

// AddRPMSigForTest records a signature of the RPM under sigkey, as
// addRPMSig would for a signed copy.
func (k *Koji) AddRPMSigForTest(ctx context.Context, rpmID int64, sigkey string) error {
	return storeTx(ctx).AddRPMSig(ctx, store.RPMSig{RPMID: rpmID, SigKey: sigkey, SigHash: "0123456789abcdef0123456789abcdef"})
}
