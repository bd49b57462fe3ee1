-- Tracking data for external repos (kojira's, through repo.setExternalRepoData):
-- upstream's schemas/schema.sql table external_repo_data (1.35, from
-- schema-upgrade-1.34-1.35.sql), with the same name, columns and
-- constraints, versioned as 0011's external_repo_config.
--
-- Differences from upstream: data is JSONB upstream; here it is TEXT
-- holding the JSON, written as PostgreSQL prints the JSONB (numbers in
-- positional notation), on both databases, as 0008's repo options.
-- create_event has no get_event() default (the store supplies it).

CREATE TABLE external_repo_data (
	external_repo_id INTEGER NOT NULL REFERENCES external_repo(id),
	data TEXT,
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
