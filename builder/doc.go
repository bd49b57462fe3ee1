// Package builder is a framework for Koji builders: the kojid task
// protocol (the host.* calls) as a Go daemon, where a task handler is one
// small type.
//
// A Daemon logs in as a host (by certificate, Kerberos or password, with
// package auth), makes its session exclusive and then does what kojid's
// TaskManager does: it checks in with host.updateHost (its load, whether
// it is ready, the methods it serves and its maxjobs), takes the tasks
// the hub assigns it, refusing those it has no Handler for, opens them,
// sets their weight and runs each Handler in a goroutine (a Foreground
// one in its main loop) on a subsession of its own. The result closes
// the task (host.closeTask) and an error fails it (host.failTask) with
// the fault encoded as kojid does. Every
// CheckInterval it compares its tasks with the hub's: a task canceled or
// given to another host has its handler's context canceled, and tasks the
// hub thinks it runs but it does not (left by a daemon that died) are
// freed; the host's buildroots whose tasks no longer run (canceled, say)
// are expired, as kojid's updateBuildroots does. Stop frees the running
// tasks, checks in as not ready and logs out, its hub calls bounded by
// Config.StopTimeout, so that a stop with the hub gone takes seconds, not
// the minutes of the client's retries.
//
// On a gokoji hub the daemon waits for work with host.waitTasks and a
// handler waits for its subtasks with host.taskWaitAny, so that tasks
// start and resume as soon as the hub has them; on other hubs (an
// upstream Koji) it polls host.getTasks every sleeptime and host.taskWait
// every second, as the calls system.listMethods reports decide.
//
// Handlers create subtasks with Task.Subtask and wait for them with
// Task.Wait (kojid's BaseTaskHandler.wait), upload files to the task's
// directory with Task.Upload, and write logs that koji watch-logs shows
// while they grow with Task.Log.
//
// The package ships handlers for kojid's everyday tasks: Sleep, Build,
// BuildArch, TagBuild, NewRepo and Createrepo, DependantTask (the chains
// of moveAllBuilds), ChainBuild (koji chain-build) and Waitrepo (waiting
// for a tag's repo to have builds, through the hub's repo requests),
// RestartHosts with Restart and RestartVerify (koji restart-hosts, which
// restart the daemons once idle: see RequestRestart),
// TagNotification and BuildNotification. They run no
// chroot or mock: a handler runs in the daemon's process, as the daemon's
// user.
package builder
