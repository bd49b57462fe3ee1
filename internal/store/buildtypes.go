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

// SetWinBuildPlatform changes the build's win_builds platform.
func (tx *Tx) SetWinBuildPlatform(ctx context.Context, buildID int64, platform string) error {
	_, err := tx.exec(ctx, "UPDATE win_builds SET platform = ? WHERE build_id = ?", platform, buildID)
	return err
}

// AddImageBuild records the build's image_builds row.
func (tx *Tx) AddImageBuild(ctx context.Context, buildID int64) error {
	_, err := tx.exec(ctx, "INSERT INTO image_builds (build_id) VALUES (?)", buildID)
	return err
}

// AddMavenArchive records the archive's maven_archives row.
func (tx *Tx) AddMavenArchive(ctx context.Context, archiveID int64, m MavenBuildRow) error {
	_, err := tx.exec(ctx, "INSERT INTO maven_archives (archive_id, group_id, artifact_id, version) VALUES (?, ?, ?, ?)",
		archiveID, m.GroupID, m.ArtifactID, m.Version)
	return err
}

// AddWinArchive records the archive's win_archives row.
func (tx *Tx) AddWinArchive(ctx context.Context, archiveID int64, w WinArchive) error {
	_, err := tx.exec(ctx, "INSERT INTO win_archives (archive_id, relpath, platforms, flags) VALUES (?, ?, ?, ?)",
		archiveID, w.RelPath, w.Platforms, w.Flags)
	return err
}

// AddImageArchive records the archive's image_archives row.
func (tx *Tx) AddImageArchive(ctx context.Context, archiveID int64, arch string) error {
	_, err := tx.exec(ctx, "INSERT INTO image_archives (archive_id, arch) VALUES (?, ?)", archiveID, arch)
	return err
}
