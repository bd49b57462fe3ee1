#!/usr/bin/env python3
"""Independent XML-RPC peer for the Go tests: Python's xmlrpc.client in Koji's dialect.

The Koji hub and the koji CLI both speak XML-RPC through Python's standard
xmlrpc.client, extended by koji/xmlrpcplus.py (ExtendedMarshaller: nil always
allowed, <i8> for integers outside signed 32 bits).  The Go tests run this
script to check that what the Go package writes and reads interoperates with
that implementation, document by document.

Subcommands (each prints one JSON object on stdout and exits 0; only a bad
command line exits 2; a problem with one document is reported in the JSON):

  check-equal DIR          For each pair NAME.a.xml / NAME.b.xml, parse both with
                           loads() and compare strictly (NaN equals NaN, -0.0 is
                           not 0.0, bool is not int, int is not float).
                           -> {"NAME": "ok" | "mismatch: ..." | "error: ..."}
  reencode DIR             For each NAME.xml (not *.out.xml), parse it and write
                           NAME.out.xml with the Koji marshaller, keeping the
                           kind of document (methodCall, methodResponse, fault).
                           -> {"NAME": "ok" | "error: ..."}
  random SEED COUNT DIR    Write COUNT random methodCall documents r0000.xml, ...
                           deterministically from SEED.  -> {"count": COUNT}
"""

import datetime
import json
import math
import os
import random
import string
import struct
import sys
import xmlrpc.client

Fault = xmlrpc.client.Fault
MAXI8 = 2 ** 63 - 1
MINI8 = -2 ** 63


class KojiMarshaller(xmlrpc.client.Marshaller):
    """Like koji.xmlrpcplus.ExtendedMarshaller: <i8> beyond 32 bits, <int> within."""

    dispatch = xmlrpc.client.Marshaller.dispatch.copy()

    def dump_int(self, value, write):
        if value > MAXI8 or value < MINI8:
            raise OverflowError("long int exceeds XML-RPC limits")
        if value > xmlrpc.client.MAXINT or value < xmlrpc.client.MININT:
            write("<value><i8>")
            write(str(int(value)))
            write("</i8></value>\n")
        else:
            xmlrpc.client.Marshaller.dump_int(self, value, write)

    dispatch[int] = dump_int


def dumps(params, methodname=None, methodresponse=False):
    """xmlrpc.client.dumps with allow_none and KojiMarshaller, as koji.xmlrpcplus.dumps.

    Two cases where the stdlib would silently write something broken are refused:
    a method name needing XML escaping (dumps writes it verbatim), and neither a
    method name nor methodresponse (dumps returns a bare <params> chunk, which is
    also what happens for an empty method name).
    """
    if isinstance(params, Fault):
        methodresponse = True
    elif not isinstance(params, tuple):
        raise TypeError("params must be a tuple or Fault instance")
    elif methodresponse and len(params) != 1:
        raise ValueError("response tuple must be a singleton, got %d params" % len(params))
    data = KojiMarshaller("utf-8", allow_none=True).dumps(params)
    header = "<?xml version='1.0'?>\n"
    if methodname:
        if xmlrpc.client.escape(methodname) != methodname:
            raise ValueError("dumps() would write methodName %r unescaped" % methodname)
        return "".join((header, "<methodCall>\n<methodName>", methodname,
                        "</methodName>\n", data, "</methodCall>\n"))
    if methodresponse:
        return "".join((header, "<methodResponse>\n", data, "</methodResponse>\n"))
    raise ValueError("empty methodName: dumps() would return a bare <params> chunk")


def load(path):
    """Parse one file: a Fault, or (params, methodname) with methodname None for a response."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        return xmlrpc.client.loads(data, use_builtin_types=True)
    except Fault as fault:
        return fault


def explain(exc):
    text = str(exc)
    return type(exc).__name__ + (": " + text if text else "")


def short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def diff(a, b, path):
    """None if a and b are strictly equal, else a description of the first difference."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return "%s: length %d != %d" % (path or "params", len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            found = diff(x, y, "%s[%d]" % (path, i))
            if found:
                return found
        return None
    if type(a) is not type(b):
        return "%s: %s %s != %s %s" % (path, type(a).__name__, short(a), type(b).__name__, short(b))
    if isinstance(a, dict):
        if a.keys() != b.keys():
            return "%s: struct keys differ, only in a: %s, only in b: %s" % (
                path, short(sorted(a.keys() - b.keys())), short(sorted(b.keys() - a.keys())))
        for key in a:
            found = diff(a[key], b[key], "%s[%r]" % (path, key))
            if found:
                return found
        return None
    if isinstance(a, float):
        equal = (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1.0, a) == math.copysign(1.0, b))
    else:
        equal = a == b
    return None if equal else "%s: %s != %s" % (path, short(a), short(b))


def kind(doc):
    if isinstance(doc, Fault):
        return "fault"
    return "methodResponse" if doc[1] is None else "methodCall"


def compare(a, b):
    if kind(a) != kind(b):
        return "a is a %s, b is a %s" % (kind(a), kind(b))
    if isinstance(a, Fault):
        return (diff(a.faultCode, b.faultCode, "faultCode")
                or diff(a.faultString, b.faultString, "faultString"))
    return diff(a[1], b[1], "methodName") or diff(a[0], b[0], "")


def check_equal(directory):
    names = {f[:-6] for f in os.listdir(directory) if f.endswith((".a.xml", ".b.xml"))}
    result = {}
    for name in sorted(names):
        docs = {}
        for side in "ab":
            try:
                docs[side] = load(os.path.join(directory, "%s.%s.xml" % (name, side)))
            except Exception as exc:
                result[name] = "error: %s: %s" % (side, explain(exc))
                break
        else:
            found = compare(docs["a"], docs["b"])
            result[name] = "mismatch: " + found if found else "ok"
    return result


def reencode(directory):
    result = {}
    for fname in sorted(os.listdir(directory)):
        if not fname.endswith(".xml") or fname.endswith(".out.xml"):
            continue
        name = fname[:-4]
        try:
            doc = load(os.path.join(directory, fname))
            if isinstance(doc, Fault):
                text = dumps(Fault(doc.faultCode, doc.faultString))
            else:
                params, method = doc
                text = dumps(params, methodname=method, methodresponse=method is None)
            with open(os.path.join(directory, name + ".out.xml"), "wb") as f:
                f.write(text.encode("utf-8"))
            result[name] = "ok"
        except Exception as exc:
            result[name] = "error: " + explain(exc)
    return result


# Random values: no "\r" (XML parsing turns it into "\n"), no other control
# characters, no U+FFFE/U+FFFF and no lone surrogates (not valid in XML 1.0).
ALPHABET = (string.ascii_letters + string.digits + string.punctuation + "  \t\n"
            + "\u00a0\u00e9\u017e\u016f\u00df\u0301\u20ac\u2014\u201c\u2028\ufffd\u4e2d\u6587"
            + "\U0001F600\U0001F4A9\U00010348\U0010FFFD")
SPECIAL_STRINGS = ("", " ", "   ", "  padded  ", "\t", "\n", " \n\t ", "<>&'\"", "]]>",
                   "&amp;", "\U0001F600")
SPECIAL_FLOATS = (0.0, -0.0, 0.1, -1.5, 1e-5, 1e-7, 1e16, 1e21, 1e22, 2.0 ** 53 + 2,
                  123456789.125, 5e-324, 2.2250738585072014e-308,
                  1.7976931348623157e308, math.inf, -math.inf)
DATE_ZERO = datetime.datetime(1900, 1, 1)
DATE_SPAN = int((datetime.datetime(2101, 1, 1) - DATE_ZERO).total_seconds())


def rand_int(rng):
    choice = rng.randrange(4)
    if choice == 0:
        return rng.randint(-1000, 1000)
    if choice == 1:  # around the <int>/<i8> boundary, 2**31-1 / 2**31 / -2**31 / -2**31-1
        return rng.choice((2 ** 31, -2 ** 31)) + rng.randint(-3, 2)
    if choice == 2:
        return rng.choice((MAXI8, -MAXI8, MINI8, MAXI8 - 1, MINI8 + 1))
    return rng.choice((1, -1)) * rng.getrandbits(rng.randint(1, 63))


def rand_float(rng):
    r = rng.random()
    if r < 0.01:
        return math.nan
    if r < 0.4:
        return rng.choice(SPECIAL_FLOATS)
    if r < 0.6:
        return rng.uniform(-1e6, 1e6)
    if r < 0.8:
        return rng.choice((1, -1)) * rng.random() * 10.0 ** rng.randint(-320, 307)
    return struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]  # any bit pattern


def rand_str(rng):
    if rng.random() < 0.25:
        return rng.choice(SPECIAL_STRINGS)
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 24)))


SCALARS = (
    lambda rng: None,
    lambda rng: rng.random() < 0.5,
    rand_int,
    rand_float,
    rand_str,
    lambda rng: rng.randbytes(rng.randint(0, 200)),
    lambda rng: DATE_ZERO + datetime.timedelta(seconds=rng.randrange(DATE_SPAN)),
)


def rand_value(rng, depth=1):
    """A random value; containers nest at most 4 deep (a top-level container is depth 1)."""
    if depth <= 4 and rng.random() < 0.25:
        size = rng.randint(0, 6)
        if rng.random() < 0.5:
            return [rand_value(rng, depth + 1) for _ in range(size)]
        return {rand_str(rng): rand_value(rng, depth + 1) for _ in range(size)}
    return rng.choice(SCALARS)(rng)


def generate(seed, count, directory):
    rng = random.Random(seed)
    os.makedirs(directory, exist_ok=True)
    for n in range(count):
        params = tuple(rand_value(rng) for _ in range(rng.randint(0, 5)))
        with open(os.path.join(directory, "r%04d.xml" % n), "wb") as f:
            f.write(dumps(params, methodname="m.%d" % n).encode("utf-8"))
    return {"count": count}


USAGE = "usage: pypeer.py check-equal DIR | reencode DIR | random SEED COUNT DIR"


def main(args):
    cmd, rest = (args[0], args[1:]) if args else (None, [])
    if cmd in ("check-equal", "reencode") and len(rest) == 1 and os.path.isdir(rest[0]):
        result = (check_equal if cmd == "check-equal" else reencode)(rest[0])
    elif cmd == "random" and len(rest) == 3 and rest[0].isdecimal() and rest[1].isdecimal():
        result = generate(int(rest[0]), int(rest[1]), rest[2])
    else:
        print(USAGE, file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
