"""What the koji CLI's wait-repo and regen-repo ask a 1.35 hub, over
Python's xmlrpc.client (koji/util.py RepoWatcher, cli regen-repo).

Usage: pyrepos.py URL CAFILE USER PASSWORD TAG < /dev/null
    Logs in with login(USER, PASSWORD), then as `koji wait-repo --request
    TAG` does: getTag, tagLastChangeEvent, repo.request with that
    min_event, and repo.checkRequest until the request has a repo. Then,
    anonymously as plain `koji wait-repo`, repo.get with the same
    min_event; and `koji regen-repo TAG`'s newRepo. Prints a JSON object
    of what it got.
"""
import json
import ssl
import sys
import time
import xmlrpc.client


class SessionTransport(xmlrpc.client.SafeTransport):
    """Sends the Koji-Session-* headers of a session, as koji.ClientSession."""

    def __init__(self, context):
        super().__init__(context=context)
        self.session = None

    def send_headers(self, connection, headers):
        if self.session:
            connection.putheader("Koji-Session-Id", str(self.session["session-id"]))
            connection.putheader("Koji-Session-Key", self.session["session-key"])
        super().send_headers(connection, headers)


def kw(**kwargs):
    kwargs["__starstar"] = True
    return kwargs


def main():
    url, cafile, user, password, tag = sys.argv[1:6]
    ctx = ssl.create_default_context(cafile=cafile)
    transport = SessionTransport(ctx)
    proxy = xmlrpc.client.ServerProxy(url, transport=transport, allow_none=True, use_builtin_types=True)
    transport.session = proxy.login(user, password)

    taginfo = proxy.getTag(tag, kw(strict=True))
    last = proxy.tagLastChangeEvent(taginfo["id"])
    # RepoWatcher.request and wait_request, as koji/util.py calls them.
    check = proxy.repo.request(taginfo["id"], kw(min_event=last, at_event=None, opts=None))
    out = {"first": check, "polls": 0, "missing": []}
    watch_fields = ("task_id", "task_state", "repo_id", "active", "tries")
    deadline = time.time() + 30
    while not check["repo"]:
        if time.time() > deadline:
            out["timeout"] = True
            break
        time.sleep(0.1)
        check = proxy.repo.checkRequest(check["request"]["id"])
        out["polls"] += 1
        out["missing"] += [f for f in watch_fields if f not in check["request"]]
    out["done"] = check

    anon = xmlrpc.client.ServerProxy(url, context=ctx, allow_none=True, use_builtin_types=True)
    out["get"] = anon.repo.get(taginfo["id"], kw(min_event=last, at_event=None, opts=None))
    try:
        anon.repo.request(taginfo["id"])
    except xmlrpc.client.Fault as f:
        out["anon_request"] = [f.faultCode, f.faultString]
    out["regen"] = proxy.newRepo(tag)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
