-- The protonmsg plugin's queue of messages not yet delivered (upstream's
-- schemas/schema.sql table proton_queue, same name and columns): messages
-- a committed call could not send while the broker was unreachable wait
-- here until a later send succeeds. props and body are JSON upstream;
-- here they are TEXT holding the same JSON on both databases. Sending
-- them is serialised by the 'protonmsg-plugin' lock row of 0002.
CREATE TABLE proton_queue (
	id {{.ID}},
	created_ts {{.TS}} NOT NULL DEFAULT {{.Now}},
	address TEXT NOT NULL,
	props TEXT NOT NULL,
	body TEXT NOT NULL
);
CREATE INDEX proton_queue_created_ts ON proton_queue (created_ts);
