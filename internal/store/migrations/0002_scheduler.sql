-- The hub-side task scheduler's tables (Koji 1.34+): upstream's
-- schemas/schema.sql tables locks, scheduler_task_runs,
-- scheduler_task_refusals, scheduler_host_data, scheduler_sys_data and
-- scheduler_log_messages, with the same names, columns and the rows
-- upstream inserts. The JSON columns (data) are JSONB upstream; here they
-- are TEXT holding JSON on both databases, which the API never exposes.

-- A row per named lock; a lock is taken by locking its row (SELECT … FOR
-- UPDATE), so it lasts until the transaction ends.
CREATE TABLE locks (
	name TEXT NOT NULL PRIMARY KEY
);
INSERT INTO locks (name) VALUES ('protonmsg-plugin');
INSERT INTO locks (name) VALUES ('scheduler');

-- A run is one assignment of a task to a host by the scheduler; the
-- active one is how the scheduler times out an assignment not taken.
CREATE TABLE scheduler_task_runs (
	id {{.ID}},
	task_id INTEGER REFERENCES task (id) NOT NULL,
	host_id INTEGER REFERENCES host (id) NOT NULL,
	active BOOLEAN NOT NULL DEFAULT TRUE,
	create_time {{.TS}} NOT NULL DEFAULT {{.Now}}
);
CREATE INDEX scheduler_task_runs_task ON scheduler_task_runs (task_id);
CREATE INDEX scheduler_task_runs_host ON scheduler_task_runs (host_id);
CREATE INDEX scheduler_task_runs_active ON scheduler_task_runs (active);
CREATE INDEX scheduler_task_runs_create_time ON scheduler_task_runs (create_time);

-- A host refusing a task (by_host) or refused it by the hub; soft
-- refusals expire after SoftRefusalTimeout.
CREATE TABLE scheduler_task_refusals (
	id {{.ID}},
	task_id INTEGER REFERENCES task (id) NOT NULL,
	host_id INTEGER REFERENCES host (id) NOT NULL,
	by_host BOOLEAN NOT NULL,
	soft BOOLEAN NOT NULL DEFAULT FALSE,
	msg TEXT,
	time {{.TS}} NOT NULL DEFAULT {{.Now}},
	UNIQUE (task_id, host_id)
);
CREATE INDEX scheduler_task_refusals_task ON scheduler_task_refusals (task_id);
CREATE INDEX scheduler_task_refusals_host ON scheduler_task_refusals (host_id);

-- What a builder reports about itself (host.updateHost's data, such as
-- its methods and maxjobs).
CREATE TABLE scheduler_host_data (
	host_id INTEGER REFERENCES host (id) PRIMARY KEY,
	data TEXT
);

-- The scheduler's own state, such as last_run_ts.
CREATE TABLE scheduler_sys_data (
	name TEXT NOT NULL PRIMARY KEY,
	data TEXT
);

CREATE TABLE scheduler_log_messages (
	id {{.ID}},
	task_id INTEGER REFERENCES task (id),
	host_id INTEGER REFERENCES host (id),
	msg_time {{.TS}} NOT NULL DEFAULT {{.Now}},
	msg TEXT NOT NULL
);
CREATE INDEX scheduler_log_messages_task ON scheduler_log_messages (task_id);
CREATE INDEX scheduler_log_messages_host ON scheduler_log_messages (host_id);
