package hubserver

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// archiveMethods are upstream's getArchive, its legacy type readers
// (getMavenArchive, getWinArchive, getImageArchive), the archive type
// readers (getArchiveType, getArchiveTypes) and the readers of the files
// in zip and tar archives (listArchiveFiles, getArchiveFile).
func (k *Koji) archiveMethods() []Method {
	idStrict := []Arg{{Name: "archive_id"}, {Name: "strict", Default: false}}
	return []Method{
		{
			Name: "getArchive", PyName: "get_archive", Args: idStrict,
			Doc:  "Get information about the archive with the given ID, with its maven, win or image information.",
			Func: getArchive,
		},
		{
			Name: "getMavenArchive", PyName: "get_maven_archive", Args: idStrict,
			Doc:  "Retrieve Maven-specific information about an archive.",
			Func: getMavenArchive,
		},
		{
			Name: "getWinArchive", PyName: "get_win_archive", Args: idStrict,
			Doc:  "Retrieve Windows-specific information about an archive.",
			Func: getWinArchive,
		},
		{
			Name: "getImageArchive", PyName: "get_image_archive", Args: idStrict,
			Doc:  "Retrieve image-specific information about an archive.",
			Func: getImageArchive,
		},
		{
			Name: "getArchiveType", PyName: "get_archive_type",
			Args: []Arg{{Name: "filename", Default: None}, {Name: "type_name", Default: None},
				{Name: "type_id", Default: None}, {Name: "strict", Default: false}},
			Doc:  "Get the archive type for the given filename, type_name, or type_id.",
			Func: getArchiveType,
		},
		{
			Name: "getArchiveTypes", PyName: "get_archive_types",
			Doc:  "Return a list of all supported archive types.",
			Func: getArchiveTypes,
		},
		{
			Name: "listArchiveFiles", PyName: "list_archive_files",
			Args: []Arg{{Name: "archive_id"}, {Name: "queryOpts", Default: None}, {Name: "strict", Default: false}},
			Doc:  "Get information about the files contained in the archive with the given ID.",
			Func: k.listArchiveFiles,
		},
		{
			Name: "getArchiveFile", PyName: "get_archive_file",
			Args: []Arg{{Name: "archive_id"}, {Name: "filename"}, {Name: "strict", Default: false}},
			Doc:  "Get information about a file with the given filename contained in the archive with the given ID.",
			Func: k.getArchiveFile,
		},
	}
}

// noRows is executeOne(strict=True)'s GenericError for a query without
// rows.
func noRows() error { return fault(koji.ErrGeneric, "query returned no rows") }

// getArchive is upstream's get_archive: list_archives' row of the archive
// updated with its maven, win and image rows (without their archive_id);
// None, or with strict a GenericError, when there is no such archive.
func getArchive(ctx context.Context, archiveID any, strict bool) (any, error) {
	a, err := readArchive(ctx, archiveID)
	if err != nil || a != nil {
		return a, err
	}
	if strict {
		return nil, fault(koji.ErrGeneric, "No such archive: %s", pyFormat(archiveID))
	}
	return nil, nil
}

// readArchive is get_archive without strict: nil when there is no such
// archive.
func readArchive(ctx context.Context, archiveID any) (map[string]any, error) {
	res, err := listArchives(ctx, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, archiveID, false)
	if err != nil {
		return nil, err
	}
	rows, ok := res.([]map[string]any)
	if !ok {
		return nil, fmt.Errorf("hubserver: listArchives answered %T", res)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	archive := rows[0]
	id := archive["id"].(int64)
	tx := storeTx(ctx)
	for _, read := range []func(context.Context, *store.Tx, int64) (map[string]any, error){mavenArchive, winArchive, imageArchive} {
		info, err := read(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		for key, v := range info {
			if key != "archive_id" {
				archive[key] = v
			}
		}
	}
	return archive, nil
}

// legacyArchive answers one of get_maven_archive, get_win_archive and
// get_image_archive: read's row, None without one, or with strict
// executeOne's GenericError.
func legacyArchive(ctx context.Context, archiveID any, strict bool,
	read func(context.Context, *store.Tx, int64) (map[string]any, error)) (any, error) {
	id, err := convertInt(archiveID)
	if err != nil {
		return nil, err
	}
	info, err := read(ctx, storeTx(ctx), id)
	switch {
	case err != nil:
		return nil, err
	case info != nil:
		return info, nil
	case strict:
		return nil, noRows()
	}
	return nil, nil
}

func getMavenArchive(ctx context.Context, archiveID any, strict bool) (any, error) {
	return legacyArchive(ctx, archiveID, strict, mavenArchive)
}

func getWinArchive(ctx context.Context, archiveID any, strict bool) (any, error) {
	return legacyArchive(ctx, archiveID, strict, winArchive)
}

func getImageArchive(ctx context.Context, archiveID any, strict bool) (any, error) {
	return legacyArchive(ctx, archiveID, strict, imageArchive)
}

// mavenArchive is the archive's maven_archives row (archive_id,
// group_id, artifact_id, version); nil without one.
func mavenArchive(ctx context.Context, tx *store.Tx, id int64) (map[string]any, error) {
	m, err := tx.GetMavenArchive(ctx, id)
	if err != nil {
		return nil, ignoreNotFound(err)
	}
	return map[string]any{"archive_id": m.ArchiveID, "group_id": m.GroupID, "artifact_id": m.ArtifactID, "version": m.Version}, nil
}

// winArchive is the archive's win_archives row (archive_id, relpath,
// platforms, flags); nil without one.
func winArchive(ctx context.Context, tx *store.Tx, id int64) (map[string]any, error) {
	w, err := tx.GetWinArchive(ctx, id)
	if err != nil {
		return nil, ignoreNotFound(err)
	}
	return map[string]any{"archive_id": id, "relpath": w.RelPath, "platforms": w.Platforms, "flags": ptrValue(w.Flags)}, nil
}

// imageArchive is the archive's image_archives row (archive_id, arch)
// with rootid, whether the image holds RPMs; nil without one.
func imageArchive(ctx context.Context, tx *store.Tx, id int64) (map[string]any, error) {
	i, err := tx.GetImageArchive(ctx, id)
	if err != nil {
		return nil, ignoreNotFound(err)
	}
	return map[string]any{"archive_id": i.ArchiveID, "arch": i.Arch, "rootid": i.RootID}, nil
}

// ignoreNotFound is nil for store.ErrNotFound, err otherwise.
func ignoreNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// archiveTypeInfo is an archivetypes row as upstream answers it.
func archiveTypeInfo(a *store.ArchiveType) map[string]any {
	return map[string]any{"id": a.ID, "name": a.Name, "description": a.Description, "extensions": a.Extensions,
		"compression_type": ptrValue(a.CompressionType)}
}

func getArchiveTypes(ctx context.Context) (any, error) {
	types, err := storeTx(ctx).ListArchiveTypes(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(types))
	for i := range types {
		out[i] = archiveTypeInfo(&types[i])
	}
	return out, nil
}

// getArchiveType is upstream's get_archive_type: by type_id, else by
// type_name, else by filename, whose extensions are tried from the last
// part on ("gz", then "tar.gz", …) against each type's space-separated
// extensions, case-insensitively, as the regular expression
// (\s|^)<ext>(\s|$) (the extension is not escaped, as upstream does not
// escape it).
func getArchiveType(ctx context.Context, filename, typeName, typeID any, strict bool) (any, error) {
	a, err := lookupArchiveType(ctx, filename, typeName, typeID, strict)
	if err != nil || a == nil {
		return nil, err
	}
	return archiveTypeInfo(a), nil
}

// lookupArchiveType is get_archive_type as a row: nil when there is none
// and not strict.
func lookupArchiveType(ctx context.Context, filename, typeName, typeID any, strict bool) (*store.ArchiveType, error) {
	tx := storeTx(ctx)
	var a *store.ArchiveType
	var err error
	switch {
	case xmlrpc.Truthy(typeID):
		id, cerr := convertInt(typeID)
		if cerr != nil {
			return nil, cerr
		}
		a, err = tx.GetArchiveTypeByID(ctx, id)
	case xmlrpc.Truthy(typeName):
		a, err = tx.GetArchiveTypeByName(ctx, pyFormat(typeName))
	case xmlrpc.Truthy(filename):
		name, cerr := checkString(filename, false)
		if cerr != nil {
			return nil, cerr
		}
		return archiveTypeOfFile(ctx, tx, *name, strict)
	default:
		return nil, fault(koji.ErrGeneric, "one of filename, type_name, or type_id must be specified")
	}
	if errors.Is(err, store.ErrNotFound) {
		if strict {
			return nil, noRows()
		}
		return nil, nil
	}
	return a, err
}

// archiveTypeOfFile is get_archive_type's match of a file name.
func archiveTypeOfFile(ctx context.Context, tx *store.Tx, filename string, strict bool) (*store.ArchiveType, error) {
	parts := strings.Split(filename, ".")
	var ext string
	for start := len(parts) - 1; start >= 0; start-- {
		ext = strings.Join(parts[start:], ".")
		found, err := tx.ArchiveTypesMatching(ctx, `(\s|^)`+ext+`(\s|$)`)
		var pe *store.PatternError
		if errors.As(err, &pe) {
			return nil, pyException("psycopg2.errors.InvalidRegularExpression", "%s", pe.Message)
		} else if err != nil {
			return nil, err
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return &found[0], nil
		}
		return nil, fault(koji.ErrGeneric, "multiple matches for file extension: %s", ext)
	}
	if strict {
		return nil, fault(koji.ErrGeneric, "unsupported file extension: %s", ext)
	}
	return nil, nil
}
