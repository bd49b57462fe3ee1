"""Archives for the hubserver's listArchiveFiles tests, made and listed by
CPython's tarfile and zipfile.

Usage: pyarchives.py < spec.json
    spec is {"make": [tar, ...], "list": [[archive_id, kind, path], ...]}.
    Each tar is {"path", "mode" ("w", "w:gz", "w:bz2" or "w:xz"),
    "members": [{"name", "type" ("file", "dir" or "symlink"), "data",
    "linkname", "mtime", "mode", "uname", "gname"}]} and is written first.
    Then each archive listed (kind "zip" or "tar") is read as kojihub's
    _get_zipfile_list and _get_tarball_list read it, and the lists are
    printed as JSON, in order.
"""
import io
import json
import os
import sys
import tarfile
import time
import zipfile


def make_tar(spec):
    with tarfile.open(spec["path"], spec["mode"], format=tarfile.GNU_FORMAT) as tar:
        for m in spec["members"]:
            info = tarfile.TarInfo(m["name"])
            info.mtime = m.get("mtime", 1700000000)
            info.mode = m.get("mode", 0o644)
            info.uname = m.get("uname", "")
            info.gname = m.get("gname", "")
            data = m.get("data", "").encode()
            if m["type"] == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif m["type"] == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = m["linkname"]
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))


def zip_list(archive_id, path):
    result = []
    if not os.path.exists(path):
        return result
    with zipfile.ZipFile(path, "r") as archive:
        for entry in archive.infolist():
            result.append({"archive_id": archive_id, "name": entry.filename, "size": entry.file_size,
                           "mtime": int(time.mktime(entry.date_time + (0, 0, -1)))})
    return result


def tar_list(archive_id, path):
    result = []
    if not os.path.exists(path):
        return result
    with tarfile.open(path, "r") as archive:
        for entry in archive:
            result.append({"archive_id": archive_id, "name": entry.name, "size": entry.size,
                           "mtime": entry.mtime, "mode": entry.mode, "user": entry.uname,
                           "group": entry.gname})
    return result


def main():
    spec = json.load(sys.stdin)
    for t in spec.get("make", []):
        make_tar(t)
    out = []
    for archive_id, kind, path in spec.get("list", []):
        out.append(zip_list(archive_id, path) if kind == "zip" else tar_list(archive_id, path))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
