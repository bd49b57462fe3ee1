package store

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// How [Tx.Search] matches its terms: upstream search's matchType.
const (
	SearchExact  = iota // =
	SearchGlob          // ILIKE, the terms already a LIKE pattern with backslash escapes
	SearchRegexp        // ~* (case-insensitive, unanchored)
)

// searchSpec is one of upstream search's types: its table (and joins),
// the id and name it answers, the expressions its terms are matched
// against (any of them) and a condition of its own.
type searchSpec struct {
	from, id, name string
	match          []string
	cond           string
}

const (
	searchNVR  = "package.name || '-' || build.version || '-' || build.release"
	searchNVRA = "rpminfo.name || '-' || rpminfo.version || '-' || rpminfo.release || '.' || rpminfo.arch || '.rpm'"
	searchWin  = "win_archives.relpath || '/' || archiveinfo.filename"
)

var searchSpecs = map[string]searchSpec{
	"package": {from: "package", id: "package.id", name: "package.name", match: []string{"package.name"}},
	"build": {from: "build JOIN package ON build.pkg_id = package.id", id: "build.id", name: searchNVR,
		match: []string{searchNVR}},
	"tag": {from: "tag JOIN tag_config ON tag.id = tag_config.tag_id", id: "tag.id", name: "tag.name",
		match: []string{"tag.name"}, cond: "tag_config.active = TRUE"},
	"target": {from: "build_target JOIN build_target_config ON build_target.id = build_target_config.build_target_id",
		id: "build_target.id", name: "build_target.name", match: []string{"build_target.name"},
		cond: "build_target_config.active = TRUE"},
	"user": {from: "users", id: "users.id", name: "users.name", match: []string{"users.name"}},
	"host": {from: "host", id: "host.id", name: "host.name", match: []string{"host.name"}},
	"rpm":  {from: "rpminfo", id: "rpminfo.id", name: searchNVRA, match: []string{searchNVRA}},
	"maven": {from: "archiveinfo JOIN maven_archives ON archiveinfo.id = maven_archives.archive_id", id: "archiveinfo.id",
		name: "archiveinfo.filename", match: []string{"archiveinfo.filename",
			"maven_archives.group_id || '-' || maven_archives.artifact_id || '-' || maven_archives.version"}},
	"win": {from: "archiveinfo JOIN win_archives ON archiveinfo.id = win_archives.archive_id", id: "archiveinfo.id",
		name: "ltrim(" + searchWin + ", '/')", match: []string{"archiveinfo.filename", searchWin}},
}

// A SearchRow is one item search found.
type SearchRow struct {
	ID   int64
	Name string
}

// Search returns the items of type typ (one of upstream search's types
// but file) whose expressions match terms, by id. PostgreSQL matches a
// regular expression with ~*; SQLite has no such operator, so there the
// rows are matched here with Go's regexp, case-insensitively.
func (tx *Tx) Search(ctx context.Context, typ string, match int, terms string) ([]SearchRow, error) {
	s, ok := searchSpecs[typ]
	if !ok {
		return nil, fmt.Errorf("store: no search type %q", typ)
	}
	cols := s.id + ", " + s.name
	var conds []string
	var args []any
	var re *regexp.Regexp
	switch {
	case match == SearchRegexp && tx.pool.dialect != Postgres:
		var err error
		if re, err = regexp.Compile("(?i)" + terms); err != nil {
			return nil, fmt.Errorf("invalid regular expression: %v", err)
		}
		for _, m := range s.match {
			cols += ", " + m
		}
	default:
		op := " = ?"
		switch match {
		case SearchGlob:
			op = tx.like()
		case SearchRegexp:
			op = " ~* ?"
		}
		var alts []string
		for _, m := range s.match {
			alts = append(alts, m+op)
			args = append(args, terms)
		}
		conds = append(conds, "("+strings.Join(alts, " OR ")+")")
	}
	if s.cond != "" {
		conds = append(conds, s.cond)
	}
	q := "SELECT " + cols + " FROM " + s.from
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	rows, err := tx.query(ctx, q+" ORDER BY "+s.id, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []SearchRow{}
	vals := make([]string, len(s.match))
	for rows.Next() {
		var r SearchRow
		dest := []any{&r.ID, &r.Name}
		if re != nil {
			for i := range vals {
				dest = append(dest, &vals[i])
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if re != nil && !matchAny(re, vals) {
			continue
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func matchAny(re *regexp.Regexp, vals []string) bool {
	for _, v := range vals {
		if re.MatchString(v) {
			return true
		}
	}
	return false
}
