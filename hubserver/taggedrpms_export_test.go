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

// AddBuildrootUseForTest records that an RPM of build (arch x86_64,
// named name) was made in a content generator's buildroot that listed
// usedRPM, and returns the new RPM's id.
func (k *Koji) AddBuildrootUseForTest(ctx context.Context, build int64, name string, usedRPM int64) (int64, error) {
	tx := storeTx(ctx)
	br, err := tx.CreateExternalBuildroot(ctx, store.Buildroot{BRType: store.BRTypeExternal})
	if err != nil {
		return 0, err
	}
	if err := tx.AddBuildrootListing(ctx, br, []int64{usedRPM}, false); err != nil {
		return 0, err
	}
	b, err := tx.GetBuild(ctx, build)
	if err != nil {
		return 0, err
	}
	return tx.CreateRPM(ctx, store.RPM{BuildID: &build, BuildrootID: &br, Name: name, Version: b.Version, Release: b.Release,
		Arch: "x86_64", Draft: &b.Draft, PayloadHash: "0123456789abcdef", Size: 1, BuildTime: 1700000000})
}
