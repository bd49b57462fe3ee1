package rebuild

import (
	"github.com/gokoji/gokoji/rebuild/depsolve"
	"github.com/gokoji/gokoji/rebuild/repodata"
)

// compareEVR compares (epoch, version, release) as rpm does.
func compareEVR(e1 int, v1, r1 string, e2 int, v2, r2 string) int {
	return depsolve.CompareEVR(repodata.EVR{Epoch: e1, Version: v1, Release: r1}, repodata.EVR{Epoch: e2, Version: v2, Release: r2})
}

func epochOf(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}
