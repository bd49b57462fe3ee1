"""An independent upload client for the hubserver tests, written as koji's
ClientSession uploads: the raw octet-stream POSTs of fastUpload (adler32
checked per chunk, then checkUpload) and the uploadFile calls of the legacy
upload (sha256 per chunk, then offset -1 for the whole file).

Usage: pyupload.py < spec.json
    spec.json is {"url", "cafile", "user", "password", "exclusive": bool,
    "steps": [...]}. The client logs in with login(user, password) and,
    with exclusive, makes its session exclusive. Each step is one of
      {"op": "fast", "path", "name", "data", "blocksize", "overwrite", "volume"}
      {"op": "legacy", "path", "name", "data", "blocksize", "volume"}
      {"op": "raw", "query": {...}, "data"}   one octet-stream POST as given
      {"op": "call", "method", "args", "kwargs"}
    where data is text (sent as UTF-8). Prints a JSON list with, per step,
    {"result": ...}, {"fault": [code, string]}, {"error": text} (a check of
    the client failed) or {"http": [status, body]} (a non-200 answer).
"""
import base64
import hashlib
import http.client
import json
import ssl
import sys
import urllib.parse
import xmlrpc.client
import zlib


class HTTPError(Exception):
    pass


class Session:
    def __init__(self, url, cafile):
        u = urllib.parse.urlsplit(url)
        self.host, self.path = u.netloc, u.path
        self.ctx = ssl.create_default_context(cafile=cafile) if u.scheme == "https" else None
        self.sinfo = None
        self.callnum = 0

    def _headers(self):
        if not self.sinfo:
            return {}
        h = {"Koji-Session-Id": str(self.sinfo["session-id"]),
             "Koji-Session-Key": self.sinfo["session-key"],
             "Koji-Session-Callnum": str(self.callnum)}
        self.callnum += 1
        return h

    def _post(self, url, body, headers):
        if self.ctx:
            conn = http.client.HTTPSConnection(self.host, context=self.ctx, timeout=60)
        else:
            conn = http.client.HTTPConnection(self.host, timeout=60)
        try:
            conn.request("POST", url, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        if resp.status != 200:
            raise HTTPError(resp.status, data.decode("utf-8", "replace"))
        return xmlrpc.client.loads(data, use_builtin_types=True)[0][0]

    def call(self, method, *args, **kwargs):
        args = list(args)
        if kwargs:
            kwargs["__starstar"] = True
            args.append(kwargs)
        body = xmlrpc.client.dumps(tuple(args), methodname=method, allow_none=True).encode()
        headers = {"Content-Type": "text/xml", "User-Agent": "koji/1"}
        headers.update(self._headers())
        return self._post(self.path, body, headers)

    def raw_upload(self, query, chunk):
        """One rawUpload call, as ClientSession._prepUpload builds it."""
        headers = {"User-Agent": "koji/1", "Content-Type": "application/octet-stream",
                   "Content-Length": str(len(chunk))}
        headers.update(self._headers())
        return self._post(self.path + "?" + urllib.parse.urlencode(query), chunk, headers)


def adler32_hex(data, value=1):
    return "%08x" % (zlib.adler32(data, value) & 0xffffffff)


def fast_upload(s, path, name, data, blocksize, overwrite, volume, verify=True, answers=None):
    """ClientSession.fastUpload. With verify, checkUpload is asked for the
    whole file's adler32, as fastUpload asks after a retried chunk; kojid's
    uploads retry nothing and ask only for the size. The answer to each
    chunk is appended to answers, when given."""
    ofs = 0
    full = 1
    first = True
    while True:
        chunk = data[ofs:ofs + blocksize]
        if not chunk and not first:
            break
        first = False
        query = {"filename": name, "filepath": path, "fileverify": "adler32", "offset": str(ofs)}
        if overwrite:
            query["overwrite"] = "1"
        if volume is not None:
            query["volume"] = volume
        result = s.raw_upload(query, chunk)
        if answers is not None:
            answers.append(result)
        full = zlib.adler32(chunk, full)
        if result["size"] != len(chunk):
            raise ValueError("server returned wrong chunk size: %s != %s" % (result["size"], len(chunk)))
        if result["hexdigest"] != adler32_hex(chunk):
            raise ValueError("upload checksum failed: %s != %s" % (result["hexdigest"], adler32_hex(chunk)))
        ofs += len(chunk)
    opts = {"verify": "adler32"} if verify else {}
    if volume is not None:
        opts["volume"] = volume
    result = s.call("checkUpload", path, name, **opts)
    if result is None:
        raise ValueError("File upload failed: %s/%s" % (path, name))
    if int(result["size"]) != ofs:
        raise ValueError("Uploaded file is wrong length: %s/%s, %s != %s" % (path, name, result["size"], ofs))
    if verify and result["hexdigest"] != "%08x" % (full & 0xffffffff):
        raise ValueError("Uploaded file has wrong checksum: %s/%s" % (path, name))
    return result


def legacy_upload(s, path, name, data, blocksize, volume):
    """The uploadFile loop of ClientSession.uploadWrapper."""
    opts = {}
    if volume is not None:
        opts["volume"] = volume
    ofs = 0
    full = hashlib.sha256()
    while True:
        chunk = data[ofs:ofs + blocksize]
        if not chunk:
            break
        full.update(chunk)
        encoded = base64.b64encode(chunk).decode()
        ok = s.call("uploadFile", path, name, len(chunk), ("sha256", hashlib.sha256(chunk).hexdigest()),
                    ofs, encoded, **opts)
        if not ok:
            raise ValueError("uploadFile refused the chunk at %d" % ofs)
        ofs += len(chunk)
    ok = s.call("uploadFile", path, name, ofs, ("sha256", full.hexdigest()), -1, "", **opts)
    if not ok:
        raise ValueError("uploadFile refused the whole file")
    return ok


def main():
    spec = json.load(sys.stdin)
    s = Session(spec["url"], spec.get("cafile"))
    s.sinfo = s.call("login", spec["user"], spec["password"])
    if spec.get("exclusive"):
        s.call("exclusiveSession")
    out = []
    for step in spec["steps"]:
        op = step["op"]
        data = step.get("data", "").encode()
        try:
            if op == "fast":
                res = fast_upload(s, step["path"], step["name"], data, step.get("blocksize", 1048576),
                                  step.get("overwrite", False), step.get("volume"))
            elif op == "legacy":
                res = legacy_upload(s, step["path"], step["name"], data, step.get("blocksize", 1048576),
                                    step.get("volume"))
            elif op == "raw":
                res = s.raw_upload(step["query"], data)
            else:
                res = s.call(step["method"], *step.get("args", []), **step.get("kwargs", {}))
            out.append({"result": res})
        except xmlrpc.client.Fault as f:
            out.append({"fault": [f.faultCode, f.faultString]})
        except HTTPError as e:
            out.append({"http": [e.args[0], e.args[1]]})
        except ValueError as e:
            out.append({"error": str(e)})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
