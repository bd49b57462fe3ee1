-- Package lists and tagged builds, as upstream Koji's schemas/schema.sql
-- (1.35) has them: tag_packages, tag_package_owners and tag_listing, with
-- the same table and column names. Versioned as 0005's tables are.

CREATE TABLE tag_packages (
	package_id INTEGER NOT NULL REFERENCES package(id),
	tag_id INTEGER NOT NULL REFERENCES tag(id),
	blocked BOOLEAN NOT NULL DEFAULT FALSE,
	extra_arches TEXT,
	create_event INTEGER NOT NULL REFERENCES events(id),
	revoke_event INTEGER REFERENCES events(id),
	creator_id INTEGER NOT NULL REFERENCES users(id),
	revoker_id INTEGER REFERENCES users(id),
	active BOOLEAN DEFAULT TRUE CHECK (active),
	CONSTRAINT active_revoke_sane CHECK (
		(active IS NULL AND revoke_event IS NOT NULL AND revoker_id IS NOT NULL)
		OR (active IS NOT NULL AND revoke_event IS NULL AND revoker_id IS NULL)),
	PRIMARY KEY (create_event, package_id, tag_id),
	UNIQUE (package_id, tag_id, active)
);
CREATE INDEX tag_packages_by_tag ON tag_packages(tag_id);
CREATE INDEX tag_packages_revoke ON tag_packages(revoke_event);

CREATE TABLE tag_package_owners (
	package_id INTEGER NOT NULL REFERENCES package(id),
	tag_id INTEGER NOT NULL REFERENCES tag(id),
	owner INTEGER NOT NULL REFERENCES users(id),
	create_event INTEGER NOT NULL REFERENCES events(id),
	revoke_event INTEGER REFERENCES events(id),
	creator_id INTEGER NOT NULL REFERENCES users(id),
	revoker_id INTEGER REFERENCES users(id),
	active BOOLEAN DEFAULT TRUE CHECK (active),
	CONSTRAINT active_revoke_sane CHECK (
		(active IS NULL AND revoke_event IS NOT NULL AND revoker_id IS NOT NULL)
		OR (active IS NOT NULL AND revoke_event IS NULL AND revoker_id IS NULL)),
	PRIMARY KEY (create_event, package_id, tag_id),
	UNIQUE (package_id, tag_id, active)
);
CREATE INDEX tag_package_owners_by_tag ON tag_package_owners(tag_id);
CREATE INDEX tag_package_owners_by_owner ON tag_package_owners(owner);

CREATE TABLE tag_listing (
	build_id INTEGER NOT NULL REFERENCES build(id),
	tag_id INTEGER NOT NULL REFERENCES tag(id),
	create_event INTEGER NOT NULL REFERENCES events(id),
	revoke_event INTEGER REFERENCES events(id),
	creator_id INTEGER NOT NULL REFERENCES users(id),
	revoker_id INTEGER REFERENCES users(id),
	active BOOLEAN DEFAULT TRUE CHECK (active),
	CONSTRAINT active_revoke_sane CHECK (
		(active IS NULL AND revoke_event IS NOT NULL AND revoker_id IS NOT NULL)
		OR (active IS NOT NULL AND revoke_event IS NULL AND revoker_id IS NULL)),
	PRIMARY KEY (create_event, build_id, tag_id),
	UNIQUE (build_id, tag_id, active)
);
CREATE INDEX tag_listing_by_tag ON tag_listing(tag_id);
CREATE INDEX tag_listing_revoke ON tag_listing(revoke_event);
