package store

import (
	"context"
	"strconv"
	"strings"
)

// TaggedRPM is a row of rpminfo as upstream's readTaggedRPMS selects it,
// with a signature's key (nil for none) when the query joins rpmsigs.
type TaggedRPM struct {
	ID           int64
	BuildID      int64
	BuildrootID  *int64
	Name         string
	Version      string
	Release      string
	Epoch        *int64
	Arch         string
	Draft        bool
	PayloadHash  string
	Size         int64
	BuildTime    int64
	MetadataOnly bool
	Extra        *string
	SigKey       *string
}

// TaggedRPMQuery selects the RPMs of builds for [Tx.EachTaggedRPM].
type TaggedRPMQuery struct {
	BuildIDs []int64
	Arches   []string // nil or empty: any
	SigKeys  bool     // one row per signature (LEFT OUTER JOIN rpmsigs)
	Extra    bool     // read rpminfo.extra
}

// EachTaggedRPM calls fn with each RPM of q's builds, by id (then
// signature key), in one query whatever the number of builds, and stops
// at fn's first error. The row fn sees is reused for the next one.
func (tx *Tx) EachTaggedRPM(ctx context.Context, q TaggedRPMQuery, fn func(*TaggedRPM) error) error {
	if len(q.BuildIDs) == 0 {
		return nil
	}
	var ids strings.Builder
	ids.WriteByte('[')
	for i, id := range q.BuildIDs {
		if i > 0 {
			ids.WriteByte(',')
		}
		ids.WriteString(strconv.FormatInt(id, 10))
	}
	ids.WriteByte(']')
	in := "SELECT value FROM json_each(?)"
	if tx.pool.dialect == Postgres {
		in = "SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(? AS JSON))"
	}
	cols := "r.id, r.build_id, r.buildroot_id, r.name, r.version, r.release, r.epoch, r.arch, r.draft, " +
		"r.payloadhash, r.size, r.buildtime, r.metadata_only"
	from := " FROM rpminfo r"
	order := " ORDER BY r.id"
	if q.Extra {
		cols += ", r.extra"
	}
	if q.SigKeys {
		cols += ", s.sigkey"
		from += " LEFT OUTER JOIN rpmsigs s ON s.rpm_id = r.id"
		order += ", s.sigkey"
	}
	where := " WHERE r.build_id IN (" + in + ")"
	args := []any{ids.String()}
	if len(q.Arches) > 0 {
		where += " AND r.arch IN (" + placeholders(len(q.Arches)) + ")"
		for _, a := range q.Arches {
			args = append(args, a)
		}
	}
	rows, err := tx.query(ctx, "SELECT "+cols+from+where+order, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var r TaggedRPM
	dest := []any{&r.ID, &r.BuildID, &r.BuildrootID, &r.Name, &r.Version, &r.Release, &r.Epoch, &r.Arch, &r.Draft,
		&r.PayloadHash, &r.Size, &r.BuildTime, &r.MetadataOnly}
	if q.Extra {
		dest = append(dest, &r.Extra)
	}
	if q.SigKeys {
		dest = append(dest, &r.SigKey)
	}
	for rows.Next() {
		r.Extra, r.SigKey, r.BuildrootID, r.Epoch = nil, nil, nil, nil
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}
