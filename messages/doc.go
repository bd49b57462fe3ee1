// Package messages reads and sends the events a Koji hub announces: task
// and build state changes, tagging and untagging, repos started and done,
// package list changes, imports, signatures and draft build promotions.
//
// # Events
//
// Each kind of event is a type — *TaskStateChange, *BuildStateChange,
// *Tag, *Untag, *RepoInit, *RepoDone, *PackageListChange, *Import,
// *RPMSign, *BuildPromote — whose members are the koji package's objects
// (koji.Task, koji.Build, koji.Tag, ...), decoded by the same rules as the
// hub's answers. A message of a kind this package does not know is an
// *Unknown event that carries it as received.
//
// Two message forms are read:
//
//   - ParseProton reads what Koji's own protonmsg hub plugin sends
//     (plugins/hub/protonmsg.py): the address topic://<prefix>.<topic>,
//     where the topic is task.<state>, build.<state>, build.tag,
//     build.untag, build.promote, package.<action>, import.<type>,
//     sign.rpm, repo.init or repo.done; the properties its prep_*
//     functions set, "type" naming the callback; and as body the JSON of
//     the callback's keyword arguments, datetimes as isoformat(' ')
//     strings.
//   - ParseFedora reads what Fedora's Koji announces on Fedora's message
//     bus (fedora-messaging, through the koji-fedoramessaging plugin): the
//     topics org.fedoraproject.prod.buildsys.build.state.change,
//     .task.state.change, .tag, .untag, .repo.init, .repo.done,
//     .package.list.change and .rpm.sign, whose bodies follow the schemas
//     of koji-fedoramessaging-messages: flat build members, user and tag
//     names rather than objects, build states as numbers.
//
// EncodeProton does the reverse of ParseProton: it builds the message
// protonmsg sends for an event, which is what a hub written with this
// module announces.
//
// # On an AMQP 0.9.1 broker
//
// protonmsg speaks AMQP 1.0 (qpid-proton). Publisher and Consume speak
// AMQP 0.9.1 to RabbitMQ, and map its messages the way RabbitMQ's AMQP 1.0
// support maps a topic address (/topic/koji.build.complete) for AMQP 0.9.1
// clients:
//
//   - the address topic://koji.build.complete becomes the routing key
//     koji.build.complete on a topic exchange (Config.Exchange, by default
//     amq.topic), so consumers bind patterns such as koji.# or
//     koji.build.*;
//   - the application properties become the message's headers;
//   - the body is the same JSON, with content type application/json.
//
// A hub running protonmsg against RabbitMQ therefore reaches the same
// consumers as a Publisher; ParseProton also unwraps a body that RabbitMQ
// passes on still encoded as an AMQP 1.0 value.
//
// Fedora's bus is already AMQP 0.9.1: its topics are routing keys on
// amq.topic, and its headers (fedora_messaging_schema, sent-at, priority,
// fedora_messaging_user_<name>, ...) are AMQP headers.
//
// A Publisher waits for the broker's confirm of each message and
// reconnects after a broker restart. Consume reads a durable queue,
// acknowledges each message only once its handler succeeded, retries a
// failed one a bounded number of times, reconnects after a broker restart
// and stops when its context ends.
package messages
