package store

import "context"

// AddMavenBuild records the build's maven_builds row (upstream's
// new_maven_build insert; the caller adds the build_types entry).
func (tx *Tx) AddMavenBuild(ctx context.Context, buildID int64, m MavenBuildRow) error {
	_, err := tx.exec(ctx, "INSERT INTO maven_builds (build_id, group_id, artifact_id, version) VALUES (?, ?, ?, ?)",
		buildID, m.GroupID, m.ArtifactID, m.Version)
	return err
}

// AddWinBuild records the build's win_builds row.
func (tx *Tx) AddWinBuild(ctx context.Context, buildID int64, platform string) error {
	_, err := tx.exec(ctx, "INSERT INTO win_builds (build_id, platform) VALUES (?, ?)", buildID, platform)
	return err
}

// AddImageBuild records the build's image_builds row.
func (tx *Tx) AddImageBuild(ctx context.Context, buildID int64) error {
	_, err := tx.exec(ctx, "INSERT INTO image_builds (build_id) VALUES (?)", buildID)
	return err
}
