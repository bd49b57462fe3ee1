package koji

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPathInfo(t *testing.T) {
	p := PathInfo{TopDir: "/mnt/koji"}
	b := &Build{Name: "bash", Version: "5.2.26", Release: "3.fc40", VolumeName: "DEFAULT"}
	onVolume := &Build{Name: "bash", Version: "5.2.26", Release: "3.fc40", VolumeName: "archive"}
	noName := &Build{PackageName: "bash", Version: "1", Release: "1"}
	r := &RPM{Name: "bash-doc", Version: "5.2.26", Release: "3.fc40", Arch: "noarch"}
	jar := &MavenInfo{GroupID: "org.apache.commons", ArtifactID: "commons-lang3", Version: "3.14.0",
		Filename: "commons-lang3-3.14.0.jar"}
	dll := &WinInfo{RelPath: "bin/x64", Filename: "tool.dll"}
	topFile := &WinInfo{Filename: "README.txt"}

	for got, want := range map[string]string{
		p.VolumeDir(""):                      "/mnt/koji",
		p.VolumeDir("DEFAULT"):               "/mnt/koji",
		p.VolumeDir("archive"):               "/mnt/koji/vol/archive",
		p.Build(b):                           "/mnt/koji/packages/bash/5.2.26/3.fc40",
		p.Build(onVolume):                    "/mnt/koji/vol/archive/packages/bash/5.2.26/3.fc40",
		p.Build(noName):                      "/mnt/koji/packages/bash/1/1",
		p.RPM(r):                             "noarch/bash-doc-5.2.26-3.fc40.noarch.rpm",
		p.Signed(r, "a15b79cc"):              "data/signed/a15b79cc/noarch/bash-doc-5.2.26-3.fc40.noarch.rpm",
		p.SigHeader(r, "a15b79cc"):           "data/sigcache/a15b79cc/noarch/bash-doc-5.2.26-3.fc40.noarch.rpm.sig",
		p.BuildLogs(b):                       "/mnt/koji/packages/bash/5.2.26/3.fc40/data/logs",
		p.MavenBuild(b):                      "/mnt/koji/packages/bash/5.2.26/3.fc40/maven",
		p.WinBuild(b):                        "/mnt/koji/packages/bash/5.2.26/3.fc40/win",
		p.MavenRepo(jar):                     "org/apache/commons/commons-lang3/3.14.0",
		p.MavenFile(jar):                     "org/apache/commons/commons-lang3/3.14.0/commons-lang3-3.14.0.jar",
		p.WinFile(dll):                       "bin/x64/tool.dll",
		p.WinFile(topFile):                   "README.txt",
		p.ImageBuild(onVolume):               "/mnt/koji/vol/archive/packages/bash/5.2.26/3.fc40/images",
		p.TypeDir(b, "maven"):                "/mnt/koji/packages/bash/5.2.26/3.fc40/maven",
		p.TypeDir(b, "win"):                  "/mnt/koji/packages/bash/5.2.26/3.fc40/win",
		p.TypeDir(b, "image"):                "/mnt/koji/packages/bash/5.2.26/3.fc40/images",
		p.TypeDir(b, "remote-sources"):       "/mnt/koji/packages/bash/5.2.26/3.fc40/files/remote-sources",
		p.Repo(1234, "f40-build"):            "/mnt/koji/repos/f40-build/1234",
		p.RepoCache("f40-build"):             "/mnt/koji/repos/f40-build/cache",
		p.DistRepo(5, "f40-dist", ""):        "/mnt/koji/repos-dist/f40-dist/5",
		p.DistRepo(5, "f40-dist", "archive"): "/mnt/koji/vol/archive/repos-dist/f40-dist/5",
		p.Work(""):                           "/mnt/koji/work",
		p.Work("archive"):                    "/mnt/koji/vol/archive/work",
		p.TaskRelPath(1234567):               "tasks/4567/1234567",
		p.TaskRelPath(42):                    "tasks/42/42",
		p.Task(1234567, ""):                  "/mnt/koji/work/tasks/4567/1234567",
		p.Task(1234567, "archive"):           "/mnt/koji/vol/archive/work/tasks/4567/1234567",
		p.Scratch():                          "/mnt/koji/scratch",
	} {
		assert.Equal(t, want, got)
	}
}

func TestPathInfoURLs(t *testing.T) {
	b := &Build{Name: "bash", Version: "5.2.26", Release: "3.fc40"}
	for _, top := range []string{"https://kojipkgs.fedoraproject.org", "https://kojipkgs.fedoraproject.org/", "https://kojipkgs.fedoraproject.org//"} {
		p := PathInfo{TopDir: top}
		assert.Equal(t, "https://kojipkgs.fedoraproject.org/packages/bash/5.2.26/3.fc40", p.Build(b), top)
		assert.Equal(t, "https://kojipkgs.fedoraproject.org/work/tasks/1208/11208", p.Task(11208, ""), top)
		assert.Equal(t, "https://kojipkgs.fedoraproject.org", p.VolumeDir("DEFAULT"), top)
	}
	assert.Equal(t, "/repos/f40-build/1", PathInfo{TopDir: "/"}.Repo(1, "f40-build"))
}
