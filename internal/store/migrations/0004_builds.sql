-- Packages, builds and their content: upstream's schemas/schema.sql tables
-- package, content_generator, build, build_types, maven_builds, win_builds,
-- image_builds, build_reservations, external_repo, rpminfo, archiveinfo,
-- maven_archives, win_archives and image_archives, with the same names and
-- columns (1.35; btype, volume and archivetypes come with 0001).
--
-- Differences from upstream, for SQLite's sake:
-- - build.create_event has no get_event() default: the store supplies it.
-- - build's draft_release_sane check (release ~ ',draft_<id>$' for drafts)
--   uses a regular expression SQLite lacks; the store writes draft
--   releases that way instead.
-- - rpminfo.buildroot_id and archiveinfo.buildroot_id do not reference
--   buildroot yet, which belongs to the build flow.
-- - rpminfo's rpminfo_filename expression index is left out.

CREATE TABLE package (
	id {{.ID}},
	name TEXT UNIQUE NOT NULL
);

CREATE TABLE content_generator (
	id {{.ID}},
	name TEXT UNIQUE NOT NULL
);

-- NVR is unique, epoch is not part of it; completion_time is NULL exactly
-- while the build is BUILDING (state 0).
CREATE TABLE build (
	id {{.ID}},
	volume_id INTEGER NOT NULL REFERENCES volume (id),
	pkg_id INTEGER NOT NULL REFERENCES package (id),
	version TEXT NOT NULL,
	release TEXT NOT NULL,
	epoch INTEGER,
	draft BOOLEAN NOT NULL DEFAULT FALSE,
	source TEXT,
	create_event INTEGER NOT NULL REFERENCES events(id),
	start_time {{.TS}},
	completion_time {{.TS}},
	promotion_time {{.TS}},
	state INTEGER NOT NULL,
	task_id INTEGER REFERENCES task (id),
	owner INTEGER NOT NULL REFERENCES users (id),
	promoter INTEGER REFERENCES users (id),
	cg_id INTEGER REFERENCES content_generator(id),
	extra TEXT,
	CONSTRAINT build_pkg_ver_rel UNIQUE (pkg_id, version, release),
	CONSTRAINT draft_for_rpminfo UNIQUE (id, draft),
	CONSTRAINT completion_sane CHECK ((state = 0 AND completion_time IS NULL) OR
		(state <> 0 AND completion_time IS NOT NULL)),
	CONSTRAINT promotion_sane CHECK (NOT draft OR (promotion_time IS NULL AND promoter IS NULL))
);
CREATE INDEX build_by_pkg_id ON build (pkg_id);
CREATE INDEX build_completion ON build (completion_time);
CREATE INDEX build_by_task ON build (task_id);

CREATE TABLE build_types (
	build_id INTEGER NOT NULL REFERENCES build(id),
	btype_id INTEGER NOT NULL REFERENCES btype(id),
	PRIMARY KEY (build_id, btype_id)
);

CREATE TABLE maven_builds (
	build_id INTEGER NOT NULL PRIMARY KEY REFERENCES build(id),
	group_id TEXT NOT NULL,
	artifact_id TEXT NOT NULL,
	version TEXT NOT NULL
);

CREATE TABLE win_builds (
	build_id INTEGER NOT NULL PRIMARY KEY REFERENCES build(id),
	platform TEXT NOT NULL
);

CREATE TABLE image_builds (
	build_id INTEGER NOT NULL PRIMARY KEY REFERENCES build(id)
);

CREATE TABLE build_reservations (
	build_id INTEGER NOT NULL PRIMARY KEY REFERENCES build(id),
	token VARCHAR(64),
	created {{.TS}} NOT NULL
);
CREATE INDEX build_reservations_created ON build_reservations (created);

CREATE TABLE external_repo (
	id {{.ID}},
	name TEXT UNIQUE NOT NULL
);
-- the fake repository of RPMs built in Koji
INSERT INTO external_repo (id, name) VALUES (0, 'INTERNAL');

CREATE TABLE rpminfo (
	id {{.ID}},
	build_id INTEGER,
	buildroot_id INTEGER,
	name TEXT NOT NULL,
	version TEXT NOT NULL,
	release TEXT NOT NULL,
	epoch INTEGER,
	arch VARCHAR(16) NOT NULL,
	draft BOOLEAN,
	external_repo_id INTEGER NOT NULL REFERENCES external_repo(id),
	payloadhash TEXT NOT NULL,
	size BIGINT NOT NULL,
	buildtime BIGINT NOT NULL,
	metadata_only BOOLEAN NOT NULL DEFAULT FALSE,
	extra TEXT,
	FOREIGN KEY (build_id, draft) REFERENCES build (id, draft) ON UPDATE CASCADE,
	CONSTRAINT build_id_draft_external_repo_id_sane CHECK (
		(draft IS NULL AND build_id IS NULL AND external_repo_id <> 0)
		OR (draft IS NOT NULL AND build_id IS NOT NULL AND external_repo_id = 0))
);
CREATE INDEX rpminfo_build ON rpminfo (build_id);
CREATE UNIQUE INDEX rpminfo_unique_nvra_not_draft ON rpminfo (name, version, release, arch, external_repo_id)
	WHERE draft IS NOT TRUE;
CREATE INDEX rpminfo_nvra ON rpminfo (name, version, release, arch, external_repo_id);

CREATE TABLE archiveinfo (
	id {{.ID}},
	type_id INTEGER NOT NULL REFERENCES archivetypes (id),
	btype_id INTEGER REFERENCES btype(id),
	build_id INTEGER NOT NULL REFERENCES build (id),
	buildroot_id INTEGER,
	filename TEXT NOT NULL,
	size BIGINT NOT NULL,
	checksum TEXT NOT NULL,
	checksum_type INTEGER NOT NULL,
	metadata_only BOOLEAN NOT NULL DEFAULT FALSE,
	extra TEXT
);
CREATE INDEX archiveinfo_build_idx ON archiveinfo (build_id);
CREATE INDEX archiveinfo_buildroot_idx ON archiveinfo (buildroot_id);
CREATE INDEX archiveinfo_type_idx ON archiveinfo (type_id);
CREATE INDEX archiveinfo_filename_idx ON archiveinfo (filename);

CREATE TABLE maven_archives (
	archive_id INTEGER NOT NULL PRIMARY KEY REFERENCES archiveinfo(id),
	group_id TEXT NOT NULL,
	artifact_id TEXT NOT NULL,
	version TEXT NOT NULL
);

CREATE TABLE image_archives (
	archive_id INTEGER NOT NULL PRIMARY KEY REFERENCES archiveinfo(id),
	arch VARCHAR(16) NOT NULL
);

CREATE TABLE win_archives (
	archive_id INTEGER NOT NULL PRIMARY KEY REFERENCES archiveinfo(id),
	relpath TEXT NOT NULL,
	platforms TEXT NOT NULL,
	flags TEXT
);
