-- Tags and their versioned configuration, extra settings and inheritance,
-- as upstream Koji's schemas/schema.sql (1.35) has them: tag, tag_config,
-- tag_extra, tag_inheritance and tag_updates, with the same table and column
-- names. Needs only 0001's events, users and permissions.
--
-- Versioned tables follow 0001's pattern: active is TRUE or NULL, never
-- FALSE, so the UNIQUE (..., active) constraints hold for live rows only.

CREATE TABLE tag (
	id {{.ID}},
	name VARCHAR(50) UNIQUE NOT NULL
);

-- A tag exists while it has an active tag_config row.
CREATE TABLE tag_config (
	tag_id INTEGER NOT NULL REFERENCES tag(id),
	arches TEXT,
	perm_id INTEGER REFERENCES permissions(id),
	locked BOOLEAN NOT NULL DEFAULT FALSE,
	maven_support BOOLEAN NOT NULL DEFAULT FALSE,
	maven_include_all BOOLEAN NOT NULL DEFAULT FALSE,
	create_event INTEGER NOT NULL REFERENCES events(id),
	revoke_event INTEGER REFERENCES events(id),
	creator_id INTEGER NOT NULL REFERENCES users(id),
	revoker_id INTEGER REFERENCES users(id),
	active BOOLEAN DEFAULT TRUE CHECK (active),
	CONSTRAINT active_revoke_sane CHECK (
		(active IS NULL AND revoke_event IS NOT NULL AND revoker_id IS NOT NULL)
		OR (active IS NOT NULL AND revoke_event IS NULL AND revoker_id IS NULL)),
	PRIMARY KEY (create_event, tag_id),
	UNIQUE (tag_id, active)
);
CREATE INDEX tag_config_revoke ON tag_config(revoke_event);

-- value is JSON text; NULL blocks an inherited key.
CREATE TABLE tag_extra (
	tag_id INTEGER NOT NULL REFERENCES tag(id),
	key TEXT NOT NULL,
	value TEXT,
	create_event INTEGER NOT NULL REFERENCES events(id),
	revoke_event INTEGER REFERENCES events(id),
	creator_id INTEGER NOT NULL REFERENCES users(id),
	revoker_id INTEGER REFERENCES users(id),
	active BOOLEAN DEFAULT TRUE CHECK (active),
	CONSTRAINT active_revoke_sane CHECK (
		(active IS NULL AND revoke_event IS NOT NULL AND revoker_id IS NOT NULL)
		OR (active IS NOT NULL AND revoke_event IS NULL AND revoker_id IS NULL)),
	PRIMARY KEY (create_event, tag_id, key),
	UNIQUE (tag_id, key, active)
);

CREATE TABLE tag_inheritance (
	tag_id INTEGER NOT NULL REFERENCES tag(id),
	parent_id INTEGER NOT NULL REFERENCES tag(id),
	priority INTEGER NOT NULL,
	maxdepth INTEGER,
	intransitive BOOLEAN NOT NULL DEFAULT FALSE,
	noconfig BOOLEAN NOT NULL DEFAULT FALSE,
	pkg_filter TEXT NOT NULL DEFAULT '',
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
	UNIQUE (tag_id, parent_id, active)
);
CREATE INDEX tag_inheritance_by_parent ON tag_inheritance(parent_id);

-- Changes to a tag's contents that no versioned row records (upstream's
-- set_tag_update), read by tagLastChangeEvent.
CREATE TABLE tag_updates (
	id {{.ID}},
	tag_id INTEGER NOT NULL REFERENCES tag(id),
	update_event INTEGER NOT NULL REFERENCES events(id),
	updater_id INTEGER NOT NULL REFERENCES users(id),
	update_type INTEGER NOT NULL
);
CREATE INDEX tag_updates_by_tag ON tag_updates(tag_id);
CREATE INDEX tag_updates_by_event ON tag_updates(update_event);
