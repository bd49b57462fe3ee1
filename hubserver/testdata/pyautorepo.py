"""kojira's repo.autoRequests and the koji CLI's `wait-repo --build NVR TAG`
without --request, against a 1.35 hub over Python's xmlrpc.client.

Usage: pyautorepo.py URL CAFILE USER PASSWORD TAG NVR < /dev/null
    Logs in with login(USER, PASSWORD) and calls repo.autoRequests, as
    kojira does each cycle, then anonymously as the CLI does: getTag (whose
    extra says whether the tag regenerates by itself), then koji/util.py's
    RepoWatcher.waitrepo(anon=True): repo.get until a repo at or after the
    tag's last change once the build is tagged, holding the build. Prints a
    JSON object of what it got.
"""
import json
import ssl
import sys
import time
import xmlrpc.client

from pyrepos import SessionTransport, kw


def parse_nvr(nvr):
    name, version, release = nvr.rsplit("-", 2)
    return {"name": name, "version": version, "release": release}


def has_builds(proxy, tag_id, builds, event):
    """koji.util.checkForBuilds without latest."""
    for build in builds:
        tagged = proxy.listTagged(tag_id, kw(event=event, package=build["name"], inherit=True))
        if not any(t["version"] == build["version"] and t["release"] == build["release"] for t in tagged):
            return False
    return True


def main():
    url, cafile, user, password, tag, nvr = sys.argv[1:7]
    ctx = ssl.create_default_context(cafile=cafile)
    transport = SessionTransport(ctx)
    proxy = xmlrpc.client.ServerProxy(url, transport=transport, allow_none=True, use_builtin_types=True)
    transport.session = proxy.login(user, password)
    anon = xmlrpc.client.ServerProxy(url, context=ctx, allow_none=True, use_builtin_types=True)

    out = {"auto_requests": proxy.repo.autoRequests(), "polls": 0}
    try:
        anon.repo.autoRequests()
    except xmlrpc.client.Fault as f:
        out["anon_auto_requests"] = [f.faultCode, f.faultString]

    taginfo = anon.getTag(tag, kw(strict=True))
    out["repo.auto"] = taginfo["extra"].get("repo.auto")
    builds = [parse_nvr(nvr)]
    min_event = None
    deadline = time.time() + 60
    while True:
        if time.time() > deadline:
            out["timeout"] = True
            break
        repo = anon.repo.get(taginfo["id"], kw(min_event=min_event, at_event=None, opts=None))
        if repo and (min_event is None or repo["create_event"] >= min_event) and \
                has_builds(anon, taginfo["id"], builds, repo["create_event"]):
            out["repo"] = repo
            break
        # RepoWatcher.wait_builds, then the tag's last change as min_event
        while not has_builds(anon, taginfo["id"], builds, None):
            if time.time() > deadline:
                break
            time.sleep(0.1)
        min_event = anon.tagLastChangeEvent(taginfo["id"])
        out["min_event"] = min_event
        out["polls"] += 1
        time.sleep(0.1)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
