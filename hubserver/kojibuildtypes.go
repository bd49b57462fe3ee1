package hubserver

import (
	"context"

	"github.com/gokoji/gokoji/koji"
)

// buildTypeMethods are upstream's getMavenBuild, getWinBuild and
// getImageBuild: a build's row of the legacy type tables.
func (k *Koji) buildTypeMethods() []Method {
	method := func(name, pyName, typ, desc string) Method {
		return Method{
			Name: name, PyName: pyName,
			Args: []Arg{{Name: "buildInfo"}, {Name: "strict", Default: false}},
			Func: func(ctx context.Context, buildInfo any, strict bool) (any, error) {
				return legacyBuildType(ctx, buildInfo, strict, typ, desc)
			},
		}
	}
	return []Method{
		method("getMavenBuild", "get_maven_build", "maven", "maven"),
		method("getWinBuild", "get_win_build", "win", "Windows"),
		method("getImageBuild", "get_image_build", "image", "image"),
		{
			Name: "getBuildType", PyName: "get_build_type",
			Args: []Arg{{Name: "buildInfo"}, {Name: "strict", Default: false}},
			Func: getBuildType,
		},
	}
}

// getBuildType is upstream's get_build_type: a build (a getBuild answer
// is used as given) as a struct of its type names to their type info,
// the legacy maven, win and image rows taking precedence; nil when there
// is no such build and not strict.
func getBuildType(ctx context.Context, buildInfo any, strict bool) (any, error) {
	binfo, ok := buildInfo.(map[string]any)
	if _, hasExtra := binfo["extra"]; !ok || !hasExtra {
		ok = false
	}
	if _, hasID := binfo["id"]; !ok || !hasID {
		b, err := getBuild(ctx, buildInfo, strict)
		if err != nil || b == nil {
			return nil, err
		}
		binfo = b
	}
	return buildTypes(ctx, binfo)
}

// legacyBuildType is upstream's get_maven_build, get_win_build and
// get_image_build: find_build_id (strict as asked), then the build's row
// of the type's table; nil without one, or with strict a GenericError
// "no such <desc> build".
func legacyBuildType(ctx context.Context, buildInfo any, strict bool, typ, desc string) (any, error) {
	tx := storeTx(ctx)
	id, err := findBuildID(ctx, tx, buildInfo, strict)
	if err != nil || id == 0 {
		return nil, err
	}
	rows, err := tx.LegacyTypeInfo(ctx, id)
	if err != nil {
		return nil, err
	}
	row, ok := rows[typ]
	if !ok {
		if strict {
			return nil, fault(koji.ErrGeneric, "no such %s build: %s", desc, pyFormat(buildInfo))
		}
		return nil, nil
	}
	return row, nil
}
