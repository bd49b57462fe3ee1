"""A builder written with Python's standard xmlrpc.client, for the
hubserver tests: kojid's conversation with its hub, its calls sent as
koji's ClientSession sends them (Koji-Session-Id, -Key and -Callnum
headers, the callnum counted up by every call and upload chunk).

Usage: pybuilder.py HUB_URL CAFILE CERTFILE KEYFILE ROLE [ARGS...]
    Logs in at HUB_URL/ssllogin with the client certificate and makes the
    session exclusive, as kojid starts, then plays ROLE and prints a JSON
    object of what the hub answered along the way:

    main         checks in, takes the two tasks the hub assigns, closes the
                 first and fails the second with kojid's documents.
    waittest LOG runs the waittest task assigned to it as koji's
                 WaitTestTask does (reporting maxjobs 1, so that its
                 subtasks go to other builders): opens it, creates its sleep
                 subtasks and the failing 'bad' one, waits for them all
                 (BaseTaskHandler.wait with all=True and the bad one in
                 canfail), reads their results, uploads the file LOG into
                 the task's directory as kojid's uploadFile does (fastUpload,
                 overwrite), lists the task's output and closes the task.
    worker N     runs N tasks of method sleep as kojid's TaskManager does
                 (check in, host.waitTasks, getTaskInfo, openTask,
                 setTaskWeight, then closeTask with the handler's result or
                 failTask with the fault kojid makes of its exception), then
                 shuts down as kojid does.

A builder of gokoji's hub uses the long-poll methods host.waitTasks and
host.taskWaitAny when system.listMethods lists them, and otherwise polls
host.getTasks and host.taskWait as kojid does; with PYBUILDER_POLL=1 in its
environment it polls even so.
"""
import json
import os
import ssl
import sys
import time
import traceback
import xmlrpc.client

sys.dont_write_bytecode = True  # no __pycache__ in testdata
import pyupload  # noqa: E402

# No conversation takes longer; a stuck one fails instead of hanging.
DEADLINE = time.monotonic() + 60


class Session(pyupload.Session):
    """pyupload's ClientSession, logged in with a client certificate."""

    def __init__(self, url, ctx):
        super().__init__(url, None)
        self.ctx = ctx
        login = xmlrpc.client.ServerProxy(url + "/ssllogin", allow_none=True, context=ctx)
        self.sinfo = login.sslLogin()


def has_method(s, name):
    """Whether to use one of the hub's long-poll methods."""
    return os.environ.get("PYBUILDER_POLL") != "1" and name in s.call("system.listMethods")


def check_deadline(what):
    if time.monotonic() > DEADLINE:
        sys.exit("pybuilder: timed out " + what)


def main_path(s, out):
    out["updateHost"] = s.call("host.updateHost", task_load=0.0, ready=True,
                               data={"methods": ["sleep"], "maxjobs": 10})
    tasks = s.call("host.getTasks")
    out["tasks"] = tasks
    first, second = tasks[0]["id"], tasks[1]["id"]

    opened = s.call("host.openTask", first)
    params, method = xmlrpc.client.loads(opened["request"])
    out["request"] = [method, list(params)]
    out["setTaskWeight"] = s.call("host.setTaskWeight", first, 0.5)
    out["hostTasks"] = s.call("host.getHostTasks")
    result = xmlrpc.client.dumps(({"slept": 1},), methodresponse=True, allow_none=True)
    out["closeTask"] = s.call("host.closeTask", first, result)

    s.call("host.openTask", second)
    fault = xmlrpc.client.dumps(xmlrpc.client.Fault(1000, "simulated failure"), methodresponse=True)
    out["failTask"] = s.call("host.failTask", second, fault)
    out["result"] = s.call("getTaskResult", first)
    try:
        s.call("getTaskResult", second)
    except xmlrpc.client.Fault as f:
        out["fault"] = [f.faultCode, f.faultString]
    try:
        s.call("host.closeTask", second, result)
    except xmlrpc.client.Fault as f:
        out["notOwner"] = [f.faultCode, f.faultString]

    if has_method(s, "host.waitTasks"):
        out["waitTasks"] = s.call("host.waitTasks", 0.2)
    out["freeTasks"] = s.call("host.freeTasks", [])


def wait_all(s, parent, subtasks, canfail, out):
    """BaseTaskHandler.wait(subtasks, all=True, canfail=canfail)."""
    s.call("host.taskSetWait", parent, subtasks)
    out["hostTasks"] = s.call("host.getHostTasks")
    long_poll = has_method(s, "host.taskWaitAny")
    out["waits"] = waits = []
    while True:
        # kojid pauses between taskWait calls until its TaskManager sees
        # (getHostTasks' alert) that a subtask finished; a long poll waits
        # in the hub for that instead.
        if long_poll:
            finished, unfinished = s.call("host.taskWaitAny", parent, 20)
        else:
            finished, unfinished = s.call("host.taskWait", parent)
        waits.append([finished, unfinished])
        if not unfinished:
            break
        check_deadline("waiting for subtasks %s" % unfinished)
        if not long_poll:
            time.sleep(0.2)
    # Nothing is awaited any more.
    out["taskWait"] = s.call("host.taskWait", parent)
    # Without canfail, the failed subtask's fault is raised again.
    try:
        s.call("host.taskWaitResults", parent, subtasks)
    except xmlrpc.client.Fault as f:
        out["strictResults"] = [f.faultCode, f.faultString]
    return s.call("host.taskWaitResults", parent, subtasks, canfail)


def waittest(s, out, logfile):
    out["updateHost"] = s.call("host.updateHost", task_load=0.0, ready=True,
                               data={"methods": ["waittest"], "maxjobs": 1})
    tasks = s.call("host.getTasks")
    out["tasks"] = tasks
    parent = tasks[0]["id"]
    opened = s.call("host.openTask", parent)
    params, method = xmlrpc.client.loads(opened["request"])
    out["request"] = [method, list(params)]
    s.call("host.setTaskWeight", parent, 0.1)  # WaitTestTask._taskWeight

    # WaitTestTask.handler(count, seconds)
    count, seconds = params
    subtasks = [s.call("host.subtask", "sleep", [seconds], parent, label=str(i)) for i in range(count)]
    # A handler run again (kojid restarted) asks for the same label: the
    # hub answers the subtask it made the first time.
    out["again"] = s.call("host.subtask", "sleep", [seconds], parent, label="0")
    bad = s.call("host.subtask", "sleep", ["BAD_ARG"], parent, label="bad")
    subtasks.append(bad)
    out["subtasks"] = subtasks
    results = wait_all(s, parent, subtasks, [bad], out)
    out["results"] = results

    # BaseTaskHandler.uploadFile: uploadWrapper to tasks/<id%10000>/<id>,
    # which with kojid's use_fast_upload is fastUpload with overwrite.
    updir = "tasks/%d/%d" % (parent % 10000, parent)
    with open(logfile, "rb") as f:
        data = f.read()
    out["rawUpload"] = chunks = []
    out["checkUpload"] = pyupload.fast_upload(s, updir, os.path.basename(logfile), data, 1048576,
                                              True, None, verify=False, answers=chunks)
    out["listTaskOutput"] = s.call("listTaskOutput", parent)

    response = xmlrpc.client.dumps((results,), methodresponse=True, allow_none=True)
    out["closeTask"] = s.call("host.closeTask", parent, response)
    shutdown(s, out)


def run_sleep(n):
    """koji.tasks.SleepTask's handler, answering what it slept."""
    time.sleep(n)
    return {"slept": n}


def worker(s, out, count):
    long_poll = has_method(s, "host.waitTasks")
    out["handled"] = handled = []
    while len(handled) < count:
        check_deadline("waiting for tasks")
        s.call("host.updateHost", task_load=0.0, ready=True,
               data={"methods": ["sleep"], "maxjobs": 10})
        if long_poll:
            tasks = s.call("host.waitTasks", 20)
        else:
            tasks = s.call("host.getTasks")
            if not tasks:
                time.sleep(0.2)
        for task in tasks:
            info = s.call("getTaskInfo", task["id"], request=True)
            if s.call("host.openTask", task["id"]) is None:
                continue
            s.call("host.setTaskWeight", task["id"], 0.25)  # SleepTask._taskWeight
            got = {"id": info["id"], "method": info["method"], "request": info["request"],
                   "label": info["label"], "parent": info["parent"]}
            # TaskManager.runTask
            try:
                result = run_sleep(*info["request"])
            except Exception as e:
                tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
                fault = xmlrpc.client.Fault(getattr(e, "faultCode", 1), tb)
                s.call("host.failTask", task["id"],
                       xmlrpc.client.dumps(fault, methodresponse=True, allow_none=True))
                got["fault"] = [fault.faultCode, fault.faultString]
            else:
                s.call("host.closeTask", task["id"],
                       xmlrpc.client.dumps((result,), methodresponse=True, allow_none=True))
                got["result"] = result
            handled.append(got)
    shutdown(s, out)


def shutdown(s, out):
    """TaskManager.shutdown: free what is left, check out."""
    out["freeTasks"] = s.call("host.freeTasks", [])
    s.call("host.updateHost", 0.0, False)


def main():
    url, cafile, certfile, keyfile, role = sys.argv[1:6]
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.load_cert_chain(certfile, keyfile)
    s = Session(url, ctx)
    s.call("exclusiveSession")
    out = {"id": s.call("host.getID")}
    if role == "main":
        main_path(s, out)
    elif role == "waittest":
        waittest(s, out, sys.argv[6])
    elif role == "worker":
        worker(s, out, int(sys.argv[6]))
    else:
        sys.exit("unknown role " + role)
    s.call("logout")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
