"""A builder written with Python's standard xmlrpc.client, for the
hubserver tests: the main path of kojid's conversation with its hub.

Usage: pybuilder.py HUB_URL CAFILE CERTFILE KEYFILE
    Logs in at HUB_URL/ssllogin with the client certificate, makes the
    session exclusive, checks in as kojid does, takes the two tasks the hub
    assigns, closes the first and fails the second with kojid's documents,
    and prints a JSON object of what the hub answered along the way.
"""
import json
import ssl
import sys
import xmlrpc.client
from urllib.parse import urlencode


class Session:
    def __init__(self, url, ctx):
        self.url = url
        self.ctx = ctx
        login = xmlrpc.client.ServerProxy(url + "/ssllogin", allow_none=True, context=ctx)
        info = login.sslLogin()
        self.id = info["session-id"]
        self.key = info["session-key"]
        self.callnum = 0

    def call(self, method, *args, **kwargs):
        # Koji's pre-header session parameters ride in the query string.
        query = urlencode({"session-id": self.id, "session-key": self.key, "callnum": self.callnum})
        self.callnum += 1
        proxy = xmlrpc.client.ServerProxy(self.url + "?" + query, allow_none=True, context=self.ctx)
        if kwargs:
            kwargs["__starstar"] = True
            args = args + (kwargs,)
        return getattr(proxy, method)(*args)


def main():
    url, cafile, certfile, keyfile = sys.argv[1:5]
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.load_cert_chain(certfile, keyfile)
    s = Session(url, ctx)
    out = {}
    s.call("exclusiveSession")
    out["id"] = s.call("host.getID")
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

    # A builder looks for the long-poll methods before using them.
    if "host.waitTasks" in s.call("system.listMethods"):
        out["waitTasks"] = s.call("host.waitTasks", 0.2)
    out["freeTasks"] = s.call("host.freeTasks", [])
    s.call("logout")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
