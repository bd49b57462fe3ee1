-- The contents of an image or other archive: upstream's schemas/schema.sql
-- tables archive_rpm_components (the RPMs in it) and archive_components
-- (the archives in it), which CGImport fills from an output's components,
-- with the same names, columns and constraints (1.35).

CREATE TABLE archive_rpm_components (
	archive_id INTEGER NOT NULL REFERENCES archiveinfo(id),
	rpm_id INTEGER NOT NULL REFERENCES rpminfo(id),
	UNIQUE (archive_id, rpm_id)
);
CREATE INDEX rpm_components_idx ON archive_rpm_components (rpm_id);

CREATE TABLE archive_components (
	archive_id INTEGER NOT NULL REFERENCES archiveinfo(id),
	component_id INTEGER NOT NULL REFERENCES archiveinfo(id),
	UNIQUE (archive_id, component_id)
);
CREATE INDEX archive_components_idx ON archive_components (component_id);
