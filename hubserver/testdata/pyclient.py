"""An independent XML-RPC peer for the hubserver tests.

Usage: pyclient.py call URL CAFILE_OR_EMPTY < calls.json
    calls.json is a list of [method, args, kwargs]; kwargs are sent the
    Koji way (a trailing struct with __starstar). Prints a JSON list of
    {"result": ...} or {"fault": [code, string]}.
Usage: pyclient.py typeerror < cases.json
    cases.json is a list of {"qualname", "bound", "args": [[name, has_default]],
    "varargs", "varkw", "pos": n, "kw": [names]}; prints the TypeError text
    CPython gives for each call, or null when the call binds.
"""
import json
import ssl
import sys
import xmlrpc.client


def do_calls(url, cafile):
    ctx = None
    if url.startswith("https"):
        ctx = ssl.create_default_context(cafile=cafile)
    proxy = xmlrpc.client.ServerProxy(url, allow_none=True, use_builtin_types=True, context=ctx)
    out = []
    for method, args, kwargs in json.load(sys.stdin):
        args = list(args)
        if kwargs:
            kwargs = dict(kwargs)
            kwargs["__starstar"] = True
            args.append(kwargs)
        try:
            res = getattr(proxy, method)(*args)
            out.append({"result": res})
        except xmlrpc.client.Fault as f:
            out.append({"fault": [f.faultCode, f.faultString]})
    json.dump(out, sys.stdout)


def make_func(case):
    params = []
    for name, has_default in case["args"] or []:
        params.append(name + ("=None" if has_default else ""))
    if case.get("varargs"):
        params.append("*" + case["varargs"])
    if case.get("varkw"):
        params.append("**" + case["varkw"])
    name = case["qualname"].split(".")[-1]
    src = "def %s(%s%s):\n    pass\n" % (name, "self, " if case["bound"] else "", ", ".join(params))
    ns = {}
    exec(src, ns)
    fn = ns[name]
    fn.__qualname__ = case["qualname"]
    return fn


def do_typeerrors():
    out = []
    for case in json.load(sys.stdin):
        fn = make_func(case)
        pos = list(range(case["pos"]))
        if case["bound"]:
            pos = [None] + pos
        try:
            fn(*pos, **{k: 1 for k in sorted(case["kw"] or [])})
            out.append(None)
        except TypeError as e:
            out.append(str(e))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    if sys.argv[1] == "call":
        do_calls(sys.argv[2], sys.argv[3])
    else:
        do_typeerrors()
