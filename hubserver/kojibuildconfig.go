package hubserver

import (
	"context"
)

// buildConfigMethods is upstream's getBuildConfig (§E3).
func (k *Koji) buildConfigMethods() []Method {
	return []Method{{
		Name: "getBuildConfig", PyName: "RootExports.getBuildConfig", Bound: true,
		Args: []Arg{{Name: "tag"}, {Name: "event", Default: None}},
		Doc:  "Return build configuration associated with a tag",
		Func: getBuildConfig,
	}}
}

// getBuildConfig is upstream's RootExports.getBuildConfig: get_tag (with
// blocked extra) whose arches, when it has none, and extra keys it lacks
// come from its ancestors in full-inheritance order, skipping noconfig
// links (the nearest wins); blocked keys are then dropped, and
// config_inheritance names the tag each inherited setting came from. The
// permission, lock and maven settings are the tag's own, as upstream's.
func getBuildConfig(ctx context.Context, tag, event any) (map[string]any, error) {
	info, err := getTag(ctx, tag, true, event, true)
	if err != nil {
		return nil, err
	}
	asOf, err := tagEvent(event)
	if err != nil {
		return nil, err
	}
	order, err := fullInheritance(ctx, storeTx(ctx), info["id"].(int64), asOf, false)
	if err != nil {
		return nil, err
	}
	extra := info["extra"].(map[string]any)
	inherited := map[string]any{}
	var archesFrom any
	for _, link := range order {
		if link["noconfig"] == true {
			continue
		}
		anc, err := getTag(ctx, link["parent_id"], true, event, true)
		if err != nil {
			return nil, err
		}
		from := map[string]any{"id": anc["id"], "name": anc["name"]}
		if hasArches(info["arches"]) == nil && hasArches(anc["arches"]) != nil {
			info["arches"], archesFrom = anc["arches"], from
		}
		for key, v := range anc["extra"].(map[string]any) {
			if _, ok := extra[key]; !ok {
				extra[key], inherited[key] = v, from
			}
		}
	}
	for key, v := range extra {
		if pair := v.([]any); pair[0] == true {
			delete(extra, key)
		} else {
			extra[key] = pair[1]
		}
	}
	info["config_inheritance"] = map[string]any{"extra": inherited, "arches": archesFrom}
	return info, nil
}

// hasArches is a tag's arches member, nil when it has none.
func hasArches(v any) *string {
	s, _ := v.(*string)
	return s
}
