-- Buildroots and content generator access: upstream's schemas/schema.sql
-- tables buildroot, standard_buildroot, buildroot_tools_info,
-- buildroot_listing, buildroot_archives and cg_users (1.35), with the
-- same names and columns.
--
-- Differences from upstream:
-- - buildroot's constraints follow its columns, as SQLite wants them.
-- - standard_buildroot.repo_id is a plain INTEGER, not a reference to
--   repo: the repo table comes with another migration, which may be
--   applied after this one.
-- - standard_buildroot.create_event and cg_users.create_event have no
--   get_event() default: the store supplies them.
-- - rpminfo.buildroot_id and archiveinfo.buildroot_id (0004) still do
--   not reference buildroot (SQLite cannot add a constraint to an
--   existing table); the hub checks the buildroots it records.

CREATE TABLE buildroot (
	id {{.ID}},
	br_type INTEGER NOT NULL,
	cg_id INTEGER REFERENCES content_generator (id),
	cg_version TEXT,
	container_type TEXT,
	container_arch TEXT,
	host_os TEXT,
	host_arch TEXT,
	extra TEXT,
	CONSTRAINT cg_sane CHECK (
		(cg_id IS NULL AND cg_version IS NULL)
		OR (cg_id IS NOT NULL AND cg_version IS NOT NULL)),
	CONSTRAINT container_sane CHECK (
		(container_type IS NULL AND container_arch IS NULL)
		OR (container_type IS NOT NULL AND container_arch IS NOT NULL))
);

CREATE TABLE standard_buildroot (
	buildroot_id INTEGER NOT NULL PRIMARY KEY REFERENCES buildroot(id),
	host_id INTEGER NOT NULL REFERENCES host(id),
	repo_id INTEGER NOT NULL,
	task_id INTEGER NOT NULL REFERENCES task (id),
	create_event INTEGER NOT NULL REFERENCES events(id),
	retire_event INTEGER,
	state INTEGER
);
CREATE INDEX standard_buildroot_by_task ON standard_buildroot (task_id);

CREATE TABLE buildroot_tools_info (
	buildroot_id INTEGER NOT NULL REFERENCES buildroot(id),
	tool TEXT NOT NULL,
	version TEXT NOT NULL,
	PRIMARY KEY (buildroot_id, tool)
);

CREATE TABLE buildroot_listing (
	buildroot_id INTEGER NOT NULL REFERENCES buildroot(id),
	rpm_id INTEGER NOT NULL REFERENCES rpminfo(id),
	is_update BOOLEAN NOT NULL DEFAULT FALSE,
	UNIQUE (buildroot_id, rpm_id)
);
CREATE INDEX buildroot_listing_rpms ON buildroot_listing (rpm_id);

CREATE TABLE buildroot_archives (
	buildroot_id INTEGER NOT NULL REFERENCES buildroot (id),
	archive_id INTEGER NOT NULL REFERENCES archiveinfo (id),
	project_dep BOOLEAN NOT NULL,
	PRIMARY KEY (buildroot_id, archive_id)
);
CREATE INDEX buildroot_archives_archive_idx ON buildroot_archives (archive_id);

CREATE TABLE cg_users (
	cg_id INTEGER NOT NULL REFERENCES content_generator (id),
	user_id INTEGER NOT NULL REFERENCES users (id),
	create_event INTEGER NOT NULL REFERENCES events(id),
	revoke_event INTEGER REFERENCES events(id),
	creator_id INTEGER NOT NULL REFERENCES users(id),
	revoker_id INTEGER REFERENCES users(id),
	active BOOLEAN DEFAULT TRUE CHECK (active),
	CONSTRAINT active_revoke_sane CHECK (
		(active IS NULL AND revoke_event IS NOT NULL AND revoker_id IS NOT NULL)
		OR (active IS NOT NULL AND revoke_event IS NULL AND revoker_id IS NULL)),
	PRIMARY KEY (create_event, cg_id, user_id),
	UNIQUE (cg_id, user_id, active)
);
