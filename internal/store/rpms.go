package store

import (
	"context"
	"strings"
)

// RPM is a row of rpminfo with its external repository's name.
type RPM struct {
	ID               int64
	BuildID          *int64
	BuildrootID      *int64
	Name             string
	Version          string
	Release          string
	Epoch            *int64
	Arch             string
	Draft            *bool
	ExternalRepoID   int64
	ExternalRepoName *string
	PayloadHash      string
	Size             int64
	BuildTime        int64
	MetadataOnly     bool
	Extra            *string

	// With RPMQuery.ComponentBuildrootID: the buildroot and whether the
	// RPM was an update there (buildroot_listing).
	ComponentBuildrootID *int64
	IsUpdate             *bool
}

// RPMQuery selects RPMs for [Tx.QueryRPMs]; nil fields do not filter.
type RPMQuery struct {
	ID          *int64
	BuildID     *int64
	BuildrootID *int64
	// Name, Version, Release and Arch together select by NVRA.
	NVRA           *[4]string
	ExternalRepoID *int64
	Arches         []string // nil: any; empty: none
	Draft          *bool
	// ImageID selects the RPMs an archive holds (archive_rpm_components),
	// ComponentBuildrootID those installed in a buildroot
	// (buildroot_listing), HostID those built in a standard buildroot of
	// the host.
	ImageID, ComponentBuildrootID, HostID *int64
	Order                                 []OrderBy // by id when empty
	Offset, Limit                         int64
}

// RPMQueryColumns maps the names an [RPMQuery] may order on to their SQL.
var RPMQueryColumns = map[string]string{
	"id": "r.id", "name": "r.name", "version": "r.version", "release": "r.release",
	"nvr": "r.name || '-' || r.version || '-' || r.release", "arch": "r.arch", "epoch": "r.epoch",
	"draft": "r.draft", "payloadhash": "r.payloadhash", "size": "r.size", "buildtime": "r.buildtime",
	"build_id": "r.build_id", "buildroot_id": "r.buildroot_id", "external_repo_id": "r.external_repo_id",
	"external_repo_name": "x.name", "metadata_only": "r.metadata_only", "extra": "r.extra",
	"component_buildroot_id": "bl.buildroot_id", "is_update": "bl.is_update",
}

const rpmColumns = "r.id, r.build_id, r.buildroot_id, r.name, r.version, r.release, r.epoch, r.arch, r.draft, " +
	"r.external_repo_id, x.name, r.payloadhash, r.size, r.buildtime, r.metadata_only, r.extra"

func scanRPM(row scanner) (*RPM, error) {
	var r RPM
	err := row.Scan(&r.ID, &r.BuildID, &r.BuildrootID, &r.Name, &r.Version, &r.Release, &r.Epoch, &r.Arch,
		&r.Draft, &r.ExternalRepoID, &r.ExternalRepoName, &r.PayloadHash, &r.Size, &r.BuildTime,
		&r.MetadataOnly, &r.Extra)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// CreateRPM inserts an RPM (r.ExternalRepoName is ignored) and returns
// its id; r.ID, when set, is the id it gets (see NextRPMID).
func (tx *Tx) CreateRPM(ctx context.Context, r RPM) (int64, error) {
	cols := "build_id, buildroot_id, name, version, release, epoch, arch, draft, " +
		"external_repo_id, payloadhash, size, buildtime, metadata_only, extra"
	args := []any{r.BuildID, r.BuildrootID, r.Name, r.Version, r.Release, r.Epoch, r.Arch, r.Draft, r.ExternalRepoID,
		r.PayloadHash, r.Size, r.BuildTime, r.MetadataOnly, r.Extra}
	if r.ID != 0 {
		cols, args = "id, "+cols, append([]any{r.ID}, args...)
	}
	return tx.insertID(ctx, "INSERT INTO rpminfo ("+cols+") VALUES ("+placeholders(len(args))+") RETURNING id", args...)
}

// QueryRPMs returns the RPMs q selects.
func (tx *Tx) QueryRPMs(ctx context.Context, q RPMQuery) ([]RPM, error) {
	var conds []string
	var args []any
	add := func(cond string, vals ...any) { conds, args = append(conds, cond), append(args, vals...) }
	for _, f := range []struct {
		col string
		v   *int64
	}{{"r.id", q.ID}, {"r.build_id", q.BuildID}, {"r.buildroot_id", q.BuildrootID}, {"r.external_repo_id", q.ExternalRepoID}} {
		if f.v != nil {
			add(f.col+" = ?", *f.v)
		}
	}
	if q.NVRA != nil {
		add("r.name = ? AND r.version = ? AND r.release = ? AND r.arch = ?", q.NVRA[0], q.NVRA[1], q.NVRA[2], q.NVRA[3])
	}
	if q.Arches != nil {
		if len(q.Arches) == 0 {
			add("1 = 0")
		} else {
			in := make([]any, len(q.Arches))
			for i, a := range q.Arches {
				in[i] = a
			}
			add("r.arch IN ("+placeholders(len(in))+")", in...)
		}
	}
	if q.Draft != nil {
		if *q.Draft {
			add("r.draft = TRUE")
		} else {
			add("(r.draft IS NULL OR r.draft = FALSE)")
		}
	}
	from := " FROM rpminfo r LEFT JOIN external_repo x ON x.id = r.external_repo_id"
	cols := rpmColumns
	if q.ImageID != nil {
		from += " JOIN archive_rpm_components arc ON arc.rpm_id = r.id"
		add("arc.archive_id = ?", *q.ImageID)
	}
	if q.ComponentBuildrootID != nil {
		from += " JOIN buildroot_listing bl ON bl.rpm_id = r.id"
		cols += ", bl.buildroot_id, bl.is_update"
		add("bl.buildroot_id = ?", *q.ComponentBuildrootID)
	}
	if q.HostID != nil {
		from += " JOIN standard_buildroot sb ON sb.buildroot_id = r.buildroot_id"
		add("sb.host_id = ?", *q.HostID)
	}
	stmt := "SELECT " + cols + from
	if len(conds) > 0 {
		stmt += " WHERE " + strings.Join(conds, " AND ")
	}
	order, err := orderBy(q.Order, RPMQueryColumns, "r.id")
	if err != nil {
		return nil, err
	}
	rows, err := tx.query(ctx, stmt+order+limitOffset(q.Limit, q.Offset), args...)
	if err != nil {
		return nil, err
	}
	if q.ComponentBuildrootID == nil {
		return collect(rows, scanRPM)
	}
	return collect(rows, func(row scanner) (*RPM, error) {
		var r RPM
		return &r, row.Scan(&r.ID, &r.BuildID, &r.BuildrootID, &r.Name, &r.Version, &r.Release, &r.Epoch, &r.Arch,
			&r.Draft, &r.ExternalRepoID, &r.ExternalRepoName, &r.PayloadHash, &r.Size, &r.BuildTime,
			&r.MetadataOnly, &r.Extra, &r.ComponentBuildrootID, &r.IsUpdate)
	})
}

// Archive is a row of archiveinfo with its type's and btype's names, and
// its legacy type rows when the query asked for them.
type Archive struct {
	ID              int64
	TypeID          int64
	BTypeID         *int64
	BType           *string
	BuildID         int64
	BuildrootID     *int64
	Filename        string
	Size            int64
	Checksum        string
	ChecksumType    int64
	MetadataOnly    bool
	Extra           *string
	TypeName        string
	TypeDescription string
	TypeExtensions  string
	CompressionType *string

	Maven *MavenBuildRow // group_id, artifact_id, version of maven_archives
	Win   *WinArchive
	Arch  *string // image_archives.arch

	// With ArchiveQuery.ComponentBuildrootID: the buildroot and whether
	// the archive was a project dependency there (buildroot_archives);
	// with HostID, the host.
	ComponentBuildrootID *int64
	Project              *bool
	HostID               *int64
}

// WinArchive is an archive's win_archives row.
type WinArchive struct {
	RelPath, Platforms string
	Flags              *string
}

// ArchiveQuery selects archives for [Tx.QueryArchives]; nil fields do not
// filter.
type ArchiveQuery struct {
	ID, BuildID, BuildrootID *int64
	Filename, Checksum       *string
	Size, ChecksumType       *int64
	// Type is "maven", "win" or "image" (archives with that legacy type
	// row, which the answer carries), or BTypeID is set.
	Type    string
	BTypeID *int64
	// Maven filters maven archives on their non-empty fields; ImageArch
	// image archives on their arch.
	Maven     *MavenBuildRow
	ImageArch *string
	// ImageID selects the archives an archive holds (archive_components),
	// ComponentBuildrootID those used in a buildroot (buildroot_archives),
	// HostID those built in a standard buildroot of the host.
	ImageID, ComponentBuildrootID, HostID *int64
	Order                                 []OrderBy
	Offset, Limit                         int64
}

// ArchiveQueryColumns maps the names an [ArchiveQuery] may order on to
// their SQL.
var ArchiveQueryColumns = map[string]string{
	"id": "a.id", "type_id": "a.type_id", "btype_id": "a.btype_id", "btype": "bt.name", "build_id": "a.build_id",
	"buildroot_id": "a.buildroot_id", "filename": "a.filename", "size": "a.size", "checksum": "a.checksum",
	"checksum_type": "a.checksum_type", "metadata_only": "a.metadata_only", "extra": "a.extra",
	"type_name": "t.name", "type_description": "t.description", "type_extensions": "t.extensions",
	"compression_type": "t.compression_type",
	"group_id":         "ma.group_id", "artifact_id": "ma.artifact_id", "version": "ma.version",
	"relpath": "wa.relpath", "platforms": "wa.platforms", "flags": "wa.flags", "arch": "ia.arch",
	"component_buildroot_id": "ba.buildroot_id", "project": "ba.project_dep", "host_id": "sb.host_id",
}

// CreateArchive inserts an archive (the name and legacy fields are
// ignored) and returns its id.
func (tx *Tx) CreateArchive(ctx context.Context, a Archive) (int64, error) {
	return tx.insertID(ctx, "INSERT INTO archiveinfo (type_id, btype_id, build_id, buildroot_id, filename, size, "+
		"checksum, checksum_type, metadata_only, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
		a.TypeID, a.BTypeID, a.BuildID, a.BuildrootID, a.Filename, a.Size, a.Checksum, a.ChecksumType,
		a.MetadataOnly, a.Extra)
}

// QueryArchives returns the archives q selects.
func (tx *Tx) QueryArchives(ctx context.Context, q ArchiveQuery) ([]Archive, error) {
	from := " FROM archiveinfo a JOIN archivetypes t ON t.id = a.type_id JOIN btype bt ON bt.id = a.btype_id"
	cols := "a.id, a.type_id, a.btype_id, bt.name, a.build_id, a.buildroot_id, a.filename, a.size, a.checksum, " +
		"a.checksum_type, a.metadata_only, a.extra, t.name, t.description, t.extensions, t.compression_type"
	var conds []string
	var args []any
	add := func(cond string, vals ...any) { conds, args = append(conds, cond), append(args, vals...) }
	for _, f := range []struct {
		col string
		v   *int64
	}{{"a.id", q.ID}, {"a.build_id", q.BuildID}, {"a.buildroot_id", q.BuildrootID}, {"a.size", q.Size},
		{"a.checksum_type", q.ChecksumType}, {"a.btype_id", q.BTypeID}} {
		if f.v != nil {
			add(f.col+" = ?", *f.v)
		}
	}
	if q.Filename != nil {
		add("a.filename = ?", *q.Filename)
	}
	if q.Checksum != nil {
		add("a.checksum = ?", *q.Checksum)
	}
	if q.ComponentBuildrootID != nil {
		from += " JOIN buildroot_archives ba ON ba.archive_id = a.id"
		cols += ", ba.buildroot_id, ba.project_dep"
		add("ba.buildroot_id = ?", *q.ComponentBuildrootID)
	}
	if q.ImageID != nil {
		from += " JOIN archive_components ac ON ac.component_id = a.id"
		add("ac.archive_id = ?", *q.ImageID)
	}
	if q.HostID != nil {
		from += " JOIN standard_buildroot sb ON sb.buildroot_id = a.buildroot_id"
		cols += ", sb.host_id"
		add("sb.host_id = ?", *q.HostID)
	}
	switch q.Type {
	case "maven":
		from += " JOIN maven_archives ma ON ma.archive_id = a.id"
		cols += ", ma.group_id, ma.artifact_id, ma.version"
		if m := q.Maven; m != nil {
			for _, f := range []struct{ col, v string }{{"ma.group_id", m.GroupID}, {"ma.artifact_id", m.ArtifactID}, {"ma.version", m.Version}} {
				if f.v != "" {
					add(f.col+" = ?", f.v)
				}
			}
		}
	case "win":
		from += " JOIN win_archives wa ON wa.archive_id = a.id"
		cols += ", wa.relpath, wa.platforms, wa.flags"
	case "image":
		from += " JOIN image_archives ia ON ia.archive_id = a.id"
		cols += ", ia.arch"
		if q.ImageArch != nil {
			add("ia.arch = ?", *q.ImageArch)
		}
	}
	stmt := "SELECT " + cols + from
	if len(conds) > 0 {
		stmt += " WHERE " + strings.Join(conds, " AND ")
	}
	order, err := orderBy(q.Order, ArchiveQueryColumns, "a.id")
	if err != nil {
		return nil, err
	}
	rows, err := tx.query(ctx, stmt+order+limitOffset(q.Limit, q.Offset), args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*Archive, error) {
		var a Archive
		dest := []any{&a.ID, &a.TypeID, &a.BTypeID, &a.BType, &a.BuildID, &a.BuildrootID, &a.Filename, &a.Size,
			&a.Checksum, &a.ChecksumType, &a.MetadataOnly, &a.Extra, &a.TypeName, &a.TypeDescription,
			&a.TypeExtensions, &a.CompressionType}
		if q.ComponentBuildrootID != nil {
			dest = append(dest, &a.ComponentBuildrootID, &a.Project)
		}
		if q.HostID != nil {
			dest = append(dest, &a.HostID)
		}
		switch q.Type {
		case "maven":
			a.Maven = &MavenBuildRow{}
			dest = append(dest, &a.Maven.GroupID, &a.Maven.ArtifactID, &a.Maven.Version)
		case "win":
			a.Win = &WinArchive{}
			dest = append(dest, &a.Win.RelPath, &a.Win.Platforms, &a.Win.Flags)
		case "image":
			dest = append(dest, &a.Arch)
		}
		return &a, r.Scan(dest...)
	})
}

// AddArchiveComponents records the RPMs and archives an archive holds.
func (tx *Tx) AddArchiveComponents(ctx context.Context, archiveID int64, rpmIDs, archiveIDs []int64) error {
	for _, r := range rpmIDs {
		if _, err := tx.exec(ctx, "INSERT INTO archive_rpm_components (archive_id, rpm_id) VALUES (?, ?)", archiveID, r); err != nil {
			return err
		}
	}
	for _, a := range archiveIDs {
		if _, err := tx.exec(ctx, "INSERT INTO archive_components (archive_id, component_id) VALUES (?, ?)", archiveID, a); err != nil {
			return err
		}
	}
	return nil
}
