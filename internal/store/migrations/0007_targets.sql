-- Build targets: upstream's schemas/schema.sql (1.35) build_target and the
-- versioned build_target_config, with the same names and columns. Needs
-- 0001's events and users and 0005's tag.
--
-- Versioned as 0005's tables: active is TRUE or NULL, never FALSE, so
-- UNIQUE (build_target_id, active) constrains only the live row. A target
-- exists while it has an active build_target_config row; its name stays in
-- build_target after deletion, so creating it again reuses the id.

CREATE TABLE build_target (
	id {{.ID}},
	name VARCHAR(50) UNIQUE NOT NULL
);

CREATE TABLE build_target_config (
	build_target_id INTEGER NOT NULL REFERENCES build_target(id),
	build_tag INTEGER NOT NULL REFERENCES tag(id),
	dest_tag INTEGER NOT NULL REFERENCES tag(id),
	create_event INTEGER NOT NULL REFERENCES events(id),
	revoke_event INTEGER REFERENCES events(id),
	creator_id INTEGER NOT NULL REFERENCES users(id),
	revoker_id INTEGER REFERENCES users(id),
	active BOOLEAN DEFAULT TRUE CHECK (active),
	CONSTRAINT active_revoke_sane CHECK (
		(active IS NULL AND revoke_event IS NOT NULL AND revoker_id IS NOT NULL)
		OR (active IS NOT NULL AND revoke_event IS NULL AND revoker_id IS NULL)),
	PRIMARY KEY (create_event, build_target_id),
	UNIQUE (build_target_id, active)
);
CREATE INDEX build_target_config_build_tag ON build_target_config(build_tag);
CREATE INDEX build_target_config_dest_tag ON build_target_config(dest_tag);
CREATE INDEX build_target_config_revoke ON build_target_config(revoke_event);
