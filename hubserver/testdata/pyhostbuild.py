"""A builder's build import written with Python's standard xmlrpc.client,
for the hubserver tests: kojid's BuildTask and BuildArchTask calls for a
non-scratch build, sent as koji's ClientSession sends them.

Usage: pyhostbuild.py HUB_URL CAFILE CERTFILE KEYFILE TASK_ID SRPM RPM...
    Logs in at HUB_URL/ssllogin with the client certificate, makes the
    session exclusive, uploads the files into the task's directory with
    fastUpload, calls host.initBuild with the SRPM's name, version and
    release (from its file name) and host.completeBuild, then prints a JSON
    object of the build id, completeBuild's answer and the fault of a
    second completeBuild.
"""
import json
import os
import ssl
import sys
import xmlrpc.client

sys.dont_write_bytecode = True  # no __pycache__ in testdata
import pyupload  # noqa: E402


class Session(pyupload.Session):
    """pyupload's ClientSession, logged in with a client certificate."""

    def __init__(self, url, ctx):
        super().__init__(url, None)
        self.ctx = ctx
        login = xmlrpc.client.ServerProxy(url + "/ssllogin", allow_none=True, context=ctx)
        self.sinfo = login.sslLogin()


def main():
    url, cafile, certfile, keyfile, task = sys.argv[1:6]
    task = int(task)
    files = sys.argv[6:]
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.load_cert_chain(certfile, keyfile)
    s = Session(url, ctx)
    s.call("exclusiveSession")
    path = "tasks/%d/%d" % (task % 10000, task)
    names = []
    for f in files:
        with open(f, "rb") as fo:
            data = fo.read()
        name = os.path.basename(f)
        pyupload.fast_upload(s, path, name, data, 65536, True, None, verify=False)
        names.append(path + "/" + name)
    nvr = os.path.basename(files[0])[:-len(".src.rpm")]
    name, version, release = nvr.rsplit("-", 2)
    data = {"name": name, "version": version, "release": release, "epoch": None, "task_id": task}
    out = {"build_id": s.call("host.initBuild", data)}
    out["completeBuild"] = s.call("host.completeBuild", task, out["build_id"], names[0], names[1:],
                                  brmap=None, logs={})
    try:
        s.call("host.completeBuild", task, out["build_id"], names[0], names[1:])
    except xmlrpc.client.Fault as f:
        out["again"] = [f.faultCode, f.faultString]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
