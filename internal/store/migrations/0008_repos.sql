-- Repos and the repo request queue: upstream's schemas/schema.sql (1.35)
-- tables repo and repo_queue, with the same names and columns. Needs
-- 0001's events, users and task and 0005's tag.
--
-- opts and custom_opts are JSONB upstream; here they are TEXT holding
-- the same JSON (objects of repo options, written with sorted keys) on
-- both databases, as 0003's proton_queue. state is koji.REPO_STATES:
-- INIT 0, READY 1, EXPIRED 2, DELETED 3, PROBLEM 4.

CREATE TABLE repo (
	id {{.ID}},
	creation_time {{.TS}} DEFAULT {{.Now}},
	create_event INTEGER NOT NULL REFERENCES events(id),
	state_time {{.TS}} DEFAULT {{.Now}},
	begin_event INTEGER REFERENCES events(id),
	end_event INTEGER REFERENCES events(id),
	tag_id INTEGER NOT NULL REFERENCES tag(id),
	state INTEGER,
	dist BOOLEAN DEFAULT FALSE,
	opts TEXT,
	custom_opts TEXT,
	task_id INTEGER NULL REFERENCES task(id)
);
CREATE INDEX repo_by_tag ON repo (tag_id, state);

CREATE TABLE repo_queue (
	id {{.ID}},
	create_time {{.TS}} NOT NULL DEFAULT {{.Now}},
	owner INTEGER REFERENCES users(id) NOT NULL,
	priority INTEGER NOT NULL,
	tag_id INTEGER NOT NULL REFERENCES tag(id),
	at_event INTEGER REFERENCES events(id),
	min_event INTEGER REFERENCES events(id),
	opts TEXT NOT NULL,
	update_time {{.TS}} NOT NULL DEFAULT {{.Now}},
	active BOOLEAN NOT NULL DEFAULT TRUE,
	task_id INTEGER REFERENCES task(id),
	tries INTEGER NOT NULL DEFAULT 0,
	repo_id INTEGER REFERENCES repo(id),
	CONSTRAINT only_one_event CHECK (at_event IS NULL OR min_event IS NULL),
	CONSTRAINT active_sane CHECK (NOT active OR repo_id IS NULL)
);
CREATE INDEX repo_queue_by_tag ON repo_queue (tag_id, active);
