-- External repositories: upstream Koji's schemas/schema.sql tables
-- external_repo_config and tag_external_repos (1.35), with the same names
-- and columns, versioned as 0005's tables are. The external_repo table
-- itself (id 0 being INTERNAL) comes with 0004.
--
-- Differences from upstream: create_event has no get_event() default
-- (the store supplies it).

-- A repo exists while it has an active external_repo_config row.
CREATE TABLE external_repo_config (
	external_repo_id INTEGER NOT NULL REFERENCES external_repo(id),
	url TEXT NOT NULL,
	create_event INTEGER NOT NULL REFERENCES events(id),
	revoke_event INTEGER REFERENCES events(id),
	creator_id INTEGER NOT NULL REFERENCES users(id),
	revoker_id INTEGER REFERENCES users(id),
	active BOOLEAN DEFAULT TRUE CHECK (active),
	CONSTRAINT active_revoke_sane CHECK (
		(active IS NULL AND revoke_event IS NOT NULL AND revoker_id IS NOT NULL)
		OR (active IS NOT NULL AND revoke_event IS NULL AND revoker_id IS NULL)),
	PRIMARY KEY (create_event, external_repo_id),
	UNIQUE (external_repo_id, active)
);

-- merge_mode is one of koji.REPO_MERGE_MODES (koji, simple, bare); arches
-- NULL means the tag's own.
CREATE TABLE tag_external_repos (
	tag_id INTEGER NOT NULL REFERENCES tag(id),
	external_repo_id INTEGER NOT NULL REFERENCES external_repo(id),
	priority INTEGER NOT NULL,
	merge_mode TEXT NOT NULL DEFAULT 'koji',
	arches TEXT,
	create_event INTEGER NOT NULL REFERENCES events(id),
	revoke_event INTEGER REFERENCES events(id),
	creator_id INTEGER NOT NULL REFERENCES users(id),
	revoker_id INTEGER REFERENCES users(id),
	active BOOLEAN DEFAULT TRUE CHECK (active),
	CONSTRAINT active_revoke_sane CHECK (
		(active IS NULL AND revoke_event IS NOT NULL AND revoker_id IS NOT NULL)
		OR (active IS NOT NULL AND revoke_event IS NULL AND revoker_id IS NULL)),
	PRIMARY KEY (create_event, tag_id, priority),
	UNIQUE (tag_id, priority, active),
	UNIQUE (tag_id, external_repo_id, active)
);
