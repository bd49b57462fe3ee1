package rebuild

import (
	"context"
	"net/http"

	"github.com/gokoji/gokoji/rebuild/depsolve"
	"github.com/gokoji/gokoji/rebuild/repodata"
)

// RepodataLoader is the RepoLoader a Service uses when its Config has
// none: repodata reads repomd.xml and the primary metadata (checksums
// verified), depsolve resolves against them.
type RepodataLoader struct {
	// HTTP fetches the metadata; http.DefaultClient when nil.
	HTTP   *http.Client
	Limits repodata.Limits
}

// Load implements RepoLoader.
func (l RepodataLoader) Load(ctx context.Context, url string) (RepoIndex, error) {
	loader := repodata.Loader{HTTP: l.HTTP, Limits: l.Limits}
	repo, err := loader.Load(ctx, url)
	if err != nil {
		return nil, err
	}
	return depsolveIndex{depsolve.NewIndex(repo.Packages)}, nil
}

// depsolveIndex is a depsolve.Index as a RepoIndex.
type depsolveIndex struct{ x *depsolve.Index }

// Resolve implements RepoIndex. A requirement whose comparison or
// version cannot be read is a problem, as one nothing provides.
func (d depsolveIndex) Resolve(ctx context.Context, group []string, requires []Requirement, arch string) (*DepResolution, error) {
	req := depsolve.Request{Arch: arch, Group: group}
	var bad []string
	for _, r := range requires {
		flags, ok := repodata.ParseFlags(r.Op)
		evr, err := repodata.ParseEVR(r.Version)
		if !ok || err != nil {
			bad = append(bad, "No package found for: "+r.String())
			continue
		}
		req.Requires = append(req.Requires, repodata.Entry{Name: r.Name, Flags: flags, EVR: evr})
	}
	res, err := d.x.Resolve(ctx, req)
	if err != nil {
		return nil, err
	}
	out := &DepResolution{Problems: append(bad, res.Problems...), Distances: res.Distances}
	for _, p := range res.Installed {
		out.Installed = append(out.Installed, Dependency{Name: p.Name, Epoch: p.EVR.Epoch, Version: p.EVR.Version,
			Release: p.EVR.Release, Arch: p.Arch})
	}
	return out, nil
}
