package koji

import (
	"strconv"
	"strings"
)

// PathInfo lays out Koji's file tree as upstream's koji.PathInfo does.
// TopDir is its root: the local topdir ("/mnt/koji") to make file paths,
// or the topurl ("https://kojipkgs.fedoraproject.org") to make URLs. A
// trailing slash on TopDir is ignored.
//
// Methods named for a place return a path under TopDir; RPM, Signed and
// SigHeader return a path relative to the build's directory (Build),
// MavenRepo and MavenFile one relative to MavenBuild or a Maven repository,
// and WinFile one relative to WinBuild.
type PathInfo struct {
	TopDir string
}

// defaultVolume is the name of volume 0, stored at the top of the tree.
const defaultVolume = "DEFAULT"

func (p PathInfo) top() string { return strings.TrimRight(p.TopDir, "/") }

// VolumeDir is the root of a storage volume: TopDir for the default volume
// ("" or "DEFAULT"), else TopDir/vol/<vol>.
func (p PathInfo) VolumeDir(vol string) string {
	if vol == "" || vol == defaultVolume {
		return p.top()
	}
	return p.top() + "/vol/" + vol
}

// Build is a build's directory:
// <volume>/packages/<name>/<version>/<release>.
func (p PathInfo) Build(b *Build) string {
	name := b.Name
	if name == "" {
		name = b.PackageName
	}
	return p.VolumeDir(b.VolumeName) + "/packages/" + name + "/" + b.Version + "/" + b.Release
}

// RPM is an RPM's path relative to its build's directory:
// <arch>/<name>-<version>-<release>.<arch>.rpm.
func (p PathInfo) RPM(r *RPM) string { return r.Arch + "/" + r.Filename() }

// Signed is the path, relative to the build's directory, of a copy of the
// RPM signed with key (a key ID such as "a15b79cc").
func (p PathInfo) Signed(r *RPM, key string) string { return "data/signed/" + key + "/" + p.RPM(r) }

// SigHeader is the path, relative to the build's directory, of the RPM's
// cached signature header for key.
func (p PathInfo) SigHeader(r *RPM, key string) string {
	return "data/sigcache/" + key + "/" + p.RPM(r) + ".sig"
}

// BuildLogs is the directory of a build's logs.
func (p PathInfo) BuildLogs(b *Build) string { return p.Build(b) + "/data/logs" }

// MavenBuild is the directory of a Maven build's archives.
func (p PathInfo) MavenBuild(b *Build) string { return p.Build(b) + "/maven" }

// MavenInfo names a Maven artifact: the group_id, artifact_id and version
// of getMavenBuild, or of a Maven archive's info, which also has the
// filename that MavenFile needs.
type MavenInfo struct {
	GroupID    string `xmlrpc:"group_id"`
	ArtifactID string `xmlrpc:"artifact_id"`
	Version    string `xmlrpc:"version"`
	Filename   string `xmlrpc:"filename"`
}

// MavenRepo is an artifact's directory in Maven's layout:
// <group_id with "." as "/">/<artifact_id>/<version>.
func (p PathInfo) MavenRepo(m *MavenInfo) string {
	return strings.ReplaceAll(m.GroupID, ".", "/") + "/" + m.ArtifactID + "/" + m.Version
}

// MavenFile is a Maven archive's path in Maven's layout: MavenRepo/<filename>.
func (p PathInfo) MavenFile(m *MavenInfo) string { return p.MavenRepo(m) + "/" + m.Filename }

// WinBuild is the directory of a Windows build's files.
func (p PathInfo) WinBuild(b *Build) string { return p.Build(b) + "/win" }

// WinInfo locates a Windows archive: the relpath and filename of its info.
type WinInfo struct {
	RelPath  string `xmlrpc:"relpath"` // "" for a file at the top
	Filename string `xmlrpc:"filename"`
}

// WinFile is a Windows archive's path relative to WinBuild:
// [<relpath>/]<filename>.
func (p PathInfo) WinFile(w *WinInfo) string {
	if w.RelPath == "" {
		return w.Filename
	}
	return w.RelPath + "/" + w.Filename
}

// ImageBuild is the directory of an image build's images.
func (p PathInfo) ImageBuild(b *Build) string { return p.Build(b) + "/images" }

// TypeDir is the directory of a build's archives of build type btype:
// MavenBuild, WinBuild or ImageBuild for "maven", "win" and "image", else
// <build>/files/<btype>.
func (p PathInfo) TypeDir(b *Build, btype string) string {
	switch btype {
	case "maven":
		return p.MavenBuild(b)
	case "win":
		return p.WinBuild(b)
	case "image":
		return p.ImageBuild(b)
	}
	return p.Build(b) + "/files/" + btype
}

// Repo is the directory of the build repository id of the tag named tag.
func (p PathInfo) Repo(id int, tag string) string {
	return p.top() + "/repos/" + tag + "/" + strconv.Itoa(id)
}

// RepoCache is the cache directory of a tag's repositories.
func (p PathInfo) RepoCache(tag string) string { return p.top() + "/repos/" + tag + "/cache" }

// DistRepo is the directory of the dist repository id of a tag, on volume vol.
func (p PathInfo) DistRepo(id int, tag, vol string) string {
	return p.VolumeDir(vol) + "/repos-dist/" + tag + "/" + strconv.Itoa(id)
}

// Work is the work directory of volume vol, where uploads and task output go.
func (p PathInfo) Work(vol string) string { return p.VolumeDir(vol) + "/work" }

// TaskRelPath is a task's directory relative to a work directory:
// tasks/<id % 10000>/<id>.
func (p PathInfo) TaskRelPath(id int) string {
	return "tasks/" + strconv.Itoa(id%10000) + "/" + strconv.Itoa(id)
}

// Task is the directory of a task's output on volume vol. With TopDir set
// to the topurl, it is the URL the CLI prints for a failed task's logs.
func (p PathInfo) Task(id int, vol string) string { return p.Work(vol) + "/" + p.TaskRelPath(id) }

// Scratch is the directory of scratch builds' output.
func (p PathInfo) Scratch() string { return p.top() + "/scratch" }
