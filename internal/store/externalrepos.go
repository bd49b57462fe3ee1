package store

import (
	"context"
	"strings"
)

// An ExternalRepo is a row of external_repo with its external_repo_config
// URL: an external repository as upstream's get_external_repos answers it.
type ExternalRepo struct {
	ID   int64
	Name string
	URL  string
}

// ExternalRepoFilter selects [Tx.ExternalRepos]' rows; nil fields do not
// filter. AsOf reads the configuration as of that event, nil the current
// one.
type ExternalRepoFilter struct {
	ID   *int64
	Name *string
	URL  *string
	AsOf *int64
}

// ExternalRepos returns the external repos configured (now or as of
// f.AsOf) that pass f, by id; INTERNAL (id 0), which has no
// configuration, is never among them.
func (tx *Tx) ExternalRepos(ctx context.Context, f ExternalRepoFilter) ([]ExternalRepo, error) {
	cond, args := eventCondition("c", f.AsOf)
	clauses := []string{cond}
	for _, c := range []struct {
		col string
		v   any
	}{{"x.id", f.ID}, {"x.name", f.Name}, {"c.url", f.URL}} {
		switch v := c.v.(type) {
		case *int64:
			if v != nil {
				clauses, args = append(clauses, c.col+" = ?"), append(args, *v)
			}
		case *string:
			if v != nil {
				clauses, args = append(clauses, c.col+" = ?"), append(args, *v)
			}
		}
	}
	rows, err := tx.query(ctx, "SELECT x.id, x.name, c.url FROM external_repo x "+
		"JOIN external_repo_config c ON c.external_repo_id = x.id WHERE "+strings.Join(clauses, " AND ")+
		" ORDER BY x.id", args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*ExternalRepo, error) {
		var x ExternalRepo
		return &x, r.Scan(&x.ID, &x.Name, &x.URL)
	})
}

// CreateExternalRepoName inserts a name into the external_repo table
// without configuration (upstream's get_external_repo_id with create)
// and returns its id; a taken name is a [*ConflictError].
func (tx *Tx) CreateExternalRepoName(ctx context.Context, name string) (int64, error) {
	return tx.insertID(ctx, "INSERT INTO external_repo (name) VALUES (?) RETURNING id", name)
}

// RenameExternalRepo renames a row of the external_repo table, which is
// not versioned (upstream's edit_external_repo); a taken name is a
// [*ConflictError].
func (tx *Tx) RenameExternalRepo(ctx context.Context, id int64, name string) error {
	_, err := tx.exec(ctx, "UPDATE external_repo SET name = ? WHERE id = ?", name, id)
	return classify(err)
}

// SetExternalRepoURL replaces the repo's external_repo_config row (if
// any) with one for url at this transaction's event.
func (tx *Tx) SetExternalRepoURL(ctx context.Context, id int64, url string, userID int64) error {
	if _, err := tx.RevokeExternalRepoConfig(ctx, id, userID); err != nil {
		return err
	}
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, "INSERT INTO external_repo_config (external_repo_id, url, create_event, creator_id, active) "+
		"VALUES (?, ?, ?, ?, TRUE)", id, url, event, userID)
	return classify(err)
}

// RevokeExternalRepoConfig revokes the repo's external_repo_config row,
// which deletes the repo, and returns how many rows it revoked.
func (tx *Tx) RevokeExternalRepoConfig(ctx context.Context, id, userID int64) (int64, error) {
	return tx.revoke(ctx, "external_repo_config", userID, "external_repo_id = ?", id)
}

// A TagExternalRepo is a row of tag_external_repos with its tag's and
// repo's names and the repo's URL, as upstream's get_tag_external_repos
// answers it. Arches nil means the tag's own.
type TagExternalRepo struct {
	TagID            int64
	TagName          string
	ExternalRepoID   int64
	ExternalRepoName string
	URL              string
	Priority         int64
	MergeMode        string
	Arches           *string
}

// TagExternalRepoFilter selects [Tx.TagExternalRepos]' rows; nil fields
// do not filter. AsOf reads both the links and the repos' configuration
// as of that event, nil the current ones.
type TagExternalRepoFilter struct {
	TagID          *int64
	ExternalRepoID *int64
	AsOf           *int64
}

// TagExternalRepos returns the tag-repo links that pass f and whose repo
// is configured at the same time, by priority (then tag and repo).
func (tx *Tx) TagExternalRepos(ctx context.Context, f TagExternalRepoFilter) ([]TagExternalRepo, error) {
	linkCond, args := eventCondition("l", f.AsOf)
	cfgCond, cfgArgs := eventCondition("c", f.AsOf)
	clauses := []string{linkCond, cfgCond}
	args = append(args, cfgArgs...)
	if f.TagID != nil {
		clauses, args = append(clauses, "l.tag_id = ?"), append(args, *f.TagID)
	}
	if f.ExternalRepoID != nil {
		clauses, args = append(clauses, "l.external_repo_id = ?"), append(args, *f.ExternalRepoID)
	}
	rows, err := tx.query(ctx, "SELECT l.tag_id, t.name, x.id, x.name, c.url, l.priority, l.merge_mode, l.arches "+
		"FROM tag_external_repos l JOIN tag t ON t.id = l.tag_id JOIN external_repo x ON x.id = l.external_repo_id "+
		"JOIN external_repo_config c ON c.external_repo_id = x.id WHERE "+strings.Join(clauses, " AND ")+
		" ORDER BY l.priority, l.tag_id, l.external_repo_id", args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*TagExternalRepo, error) {
		var l TagExternalRepo
		return &l, r.Scan(&l.TagID, &l.TagName, &l.ExternalRepoID, &l.ExternalRepoName, &l.URL, &l.Priority,
			&l.MergeMode, &l.Arches)
	})
}

// AddTagExternalRepo links a repo to a tag at this transaction's event
// (l's names and URL are not stored); a priority or repo the tag already
// has is a [*ConflictError].
func (tx *Tx) AddTagExternalRepo(ctx context.Context, l TagExternalRepo, userID int64) error {
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, "INSERT INTO tag_external_repos (tag_id, external_repo_id, priority, merge_mode, arches, "+
		"create_event, creator_id, active) VALUES (?, ?, ?, ?, ?, ?, ?, TRUE)",
		l.TagID, l.ExternalRepoID, l.Priority, l.MergeMode, l.Arches, event, userID)
	return classify(err)
}

// RemoveTagExternalRepo revokes the tag's link to the repo and returns
// how many rows it revoked (0 or 1).
func (tx *Tx) RemoveTagExternalRepo(ctx context.Context, tagID, repoID, userID int64) (int64, error) {
	return tx.revoke(ctx, "tag_external_repos", userID, "tag_id = ? AND external_repo_id = ?", tagID, repoID)
}
