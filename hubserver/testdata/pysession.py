"""A logged-in XML-RPC peer for the hubserver tests: Python's xmlrpc.client
speaking to the hub as the koji CLI's ClientSession does.

Usage: pysession.py URL CAFILE USER PASSWORD < calls.json
    Logs in with login(USER, PASSWORD), then makes each call of calls.json
    (a list of [method, args, kwargs]; kwargs are sent the Koji way, as a
    trailing struct with __starstar) with the session in the
    Koji-Session-Id, Koji-Session-Key and Koji-Session-Callnum headers.
    An argument {"$ref": [i, key...]} is replaced by that part of the
    result of call i (None if it faulted). Prints a JSON list of {"result": ..., "types": ...}
    or {"fault": [code, string]}, where types is the result's shape as
    Python sees it: a type name, {"dict": {member: types}} or
    {"list": [types of the first item]}.
"""
import json
import ssl
import sys
import xmlrpc.client


class SessionTransport(xmlrpc.client.SafeTransport):
    def __init__(self, context):
        super().__init__(context=context)
        self.session = None
        self.callnum = 0

    def send_headers(self, connection, headers):
        super().send_headers(connection, headers)
        if self.session is not None:
            connection.putheader("Koji-Session-Id", str(self.session["session-id"]))
            connection.putheader("Koji-Session-Key", self.session["session-key"])
            connection.putheader("Koji-Session-Callnum", str(self.callnum))
            self.callnum += 1


def shape(v):
    if isinstance(v, dict):
        return {"dict": {k: shape(x) for k, x in v.items()}}
    if isinstance(v, list):
        return {"list": [shape(x) for x in v[:1]]}
    return type(v).__name__


def resolve(v, out):
    if isinstance(v, dict) and "$ref" in v:
        path = v["$ref"]
        x = out[path[0]].get("result")  # None when that call faulted
        for key in path[1:]:
            x = None if x is None else x[key]
        return x
    if isinstance(v, list):
        return [resolve(x, out) for x in v]
    if isinstance(v, dict):
        return {k: resolve(x, out) for k, x in v.items()}
    return v


def main(url, cafile, user, password):
    transport = SessionTransport(ssl.create_default_context(cafile=cafile))
    proxy = xmlrpc.client.ServerProxy(url, transport=transport, allow_none=True, use_builtin_types=True)
    transport.session = proxy.login(user, password, {"__starstar": True, "opts": None})
    out = []
    for method, args, kwargs in json.load(sys.stdin):
        args = resolve(list(args), out)
        if kwargs:
            kwargs = resolve(dict(kwargs), out)
            kwargs["__starstar"] = True
            args.append(kwargs)
        try:
            res = getattr(proxy, method)(*args)
            out.append({"result": res, "types": shape(res)})
        except xmlrpc.client.Fault as f:
            out.append({"fault": [f.faultCode, f.faultString]})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:5])
