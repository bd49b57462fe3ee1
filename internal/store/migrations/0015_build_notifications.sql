-- Mail notifications: upstream's schemas/schema.sql tables
-- build_notifications (a user's subscriptions to the mails about builds
-- of a package, into a tag, or both, and only the successful ones with
-- success_only) and build_notifications_block (a user's opt-outs), with
-- the same names, columns and constraints (1.35).

CREATE TABLE build_notifications (
	id {{.ID}},
	user_id INTEGER NOT NULL REFERENCES users (id),
	package_id INTEGER REFERENCES package (id),
	tag_id INTEGER REFERENCES tag (id),
	success_only BOOLEAN NOT NULL DEFAULT FALSE,
	email TEXT NOT NULL
);

CREATE TABLE build_notifications_block (
	id {{.ID}},
	user_id INTEGER NOT NULL REFERENCES users (id),
	package_id INTEGER REFERENCES package (id),
	tag_id INTEGER REFERENCES tag (id)
);
