"""A host's policy calls, made with Python's standard xmlrpc.client as
kojid makes them, for the hubserver tests.

Usage: pypolicy.py HUB_URL CAFILE CERTFILE KEYFILE < calls.json
    Logs in at HUB_URL/ssllogin with the client certificate and makes the
    session exclusive, as kojid starts (pybuilder.py's Session), then makes
    the calls of calls.json, a list of [method, args, kwargs], and prints a
    JSON list of {"result": ...} or {"fault": [code, string]}.
"""
import json
import ssl
import sys
import xmlrpc.client

sys.dont_write_bytecode = True  # no __pycache__ in testdata
import pybuilder  # noqa: E402


def main():
    url, cafile, certfile, keyfile = sys.argv[1:5]
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.load_cert_chain(certfile, keyfile)
    s = pybuilder.Session(url, ctx)
    s.call("exclusiveSession")
    out = []
    for method, args, kwargs in json.load(sys.stdin):
        try:
            out.append({"result": s.call(method, *args, **(kwargs or {}))})
        except xmlrpc.client.Fault as f:
            out.append({"fault": [f.faultCode, f.faultString]})
    s.call("logout")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
