-- RPM signatures: upstream's schemas/schema.sql tables rpmsigs (the
-- signature headers stored for an rpm, sigkey '' for an unsigned one) and
-- rpm_checksum (checksums of the signed copies writeSignedRPM writes),
-- with the same names, columns and constraints (1.35).

CREATE TABLE rpmsigs (
	rpm_id INTEGER NOT NULL REFERENCES rpminfo (id),
	sigkey TEXT NOT NULL,
	sighash TEXT NOT NULL,
	CONSTRAINT rpmsigs_no_resign UNIQUE (rpm_id, sigkey)
);
CREATE INDEX rpmsigs_sigkey ON rpmsigs (sigkey);

CREATE TABLE rpm_checksum (
	rpm_id INTEGER NOT NULL REFERENCES rpminfo (id),
	sigkey TEXT NOT NULL,
	checksum TEXT NOT NULL UNIQUE,
	checksum_type SMALLINT NOT NULL,
	PRIMARY KEY (rpm_id, sigkey, checksum_type)
);
CREATE INDEX rpm_checksum_rpm_id ON rpm_checksum (rpm_id);
