package rpm

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// header builds the main header of s with the (checked, sorted) files and
// the compressed payload.
func (s *Spec) header(files []File, payload []byte) *headerBuilder {
	var h headerBuilder
	h.strs(TagHeaderI18NTable, []string{"C"})
	h.str(TagName, s.Name)
	h.str(TagVersion, s.Version)
	h.str(TagRelease, s.Release)
	if s.Epoch != nil {
		h.ints(TagEpoch, TypeInt32, int64(*s.Epoch))
	}
	h.i18n(TagSummary, s.Summary)
	h.i18n(TagDescription, s.Description)
	h.ints(TagBuildTime, TypeInt32, s.BuildTime.Unix())
	h.strOpt(TagBuildHost, s.BuildHost)
	h.str(TagLicense, s.License)
	h.strOpt(TagURL, s.URL)
	h.strOpt(TagPackager, s.Packager)
	h.strOpt(TagVendor, s.Vendor)
	group := s.Group
	if group == "" {
		group = defaultGroup
	}
	h.i18n(TagGroup, group)
	h.str(TagOS, "linux")
	h.str(TagArch, s.arch())
	if s.Source {
		h.ints(TagSourcePackage, TypeInt32, 1)
	} else {
		src := s.SourceRPM
		if src == "" {
			src = s.Name + "-" + s.Version + "-" + s.Release + ".src.rpm"
		}
		h.str(TagSourceRPM, src)
	}
	var size int64
	for i := range files {
		if files[i].Mode.Type() != fs.ModeDir {
			size += files[i].size()
		}
	}
	h.ints(TagSize, TypeInt32, size)
	s.addDeps(&h)
	if len(files) > 0 {
		addFiles(&h, files, s.Source)
	}
	h.str(TagPayloadFormat, "cpio")
	h.str(TagPayloadCompressor, "gzip")
	h.str(TagPayloadFlags, payloadFlags)
	h.str(TagEncoding, "utf-8")
	sum := sha256.Sum256(payload)
	h.strs(TagPayloadDigest, []string{hex.EncodeToString(sum[:])})
	h.ints(TagPayloadDigestAlgo, TypeInt32, digestSHA256)
	return &h
}

// addDeps adds the dependency tags, with what rpmbuild adds itself.
func (s *Spec) addDeps(h *headerBuilder) {
	requires := append([]Dependency{
		{Name: "rpmlib(CompressedFileNames)", Flags: rpmlibFlags, Version: "3.0.4-1"},
		{Name: "rpmlib(FileDigests)", Flags: rpmlibFlags, Version: "4.6.0-1"},
	}, s.Requires...)
	if !s.Source {
		requires = append(requires, Dependency{Name: "rpmlib(PayloadFilesHavePrefix)", Flags: rpmlibFlags, Version: "4.0-1"})
	}
	provides := append([]Dependency{{Name: s.Name, Flags: DepEqual, Version: s.evr()}}, s.Provides...)
	for _, d := range []struct {
		deps                     []Dependency
		name, flags, versionTags int
	}{
		{requires, TagRequireName, TagRequireFlags, TagRequireVersion},
		{provides, TagProvideName, TagProvideFlags, TagProvideVersion},
		{s.Conflicts, TagConflictName, TagConflictFlags, TagConflictVersion},
		{s.Obsoletes, TagObsoleteName, TagObsoleteFlags, TagObsoleteVersion},
	} {
		deps := sortDeps(d.deps)
		if len(deps) == 0 {
			continue
		}
		names, versions, flags := make([]string, len(deps)), make([]string, len(deps)), make([]int64, len(deps))
		for i, dep := range deps {
			names[i], versions[i], flags[i] = dep.Name, dep.Version, int64(dep.Flags)
		}
		h.strs(d.name, names)
		h.ints(d.flags, TypeInt32, flags...)
		h.strs(d.versionTags, versions)
	}
}

// sortDeps returns deps sorted by name, version and flags, without
// duplicates.
func sortDeps(deps []Dependency) []Dependency {
	out := append([]Dependency(nil), deps...)
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Flags < b.Flags
	})
	uniq := out[:0]
	for i, d := range out {
		if i == 0 || d != out[i-1] {
			uniq = append(uniq, d)
		}
	}
	return uniq
}

// addFiles adds the file list: per-file arrays and the compressed file
// names (DIRNAMES, BASENAMES, DIRINDEXES). An SRPM's bare names have the
// empty directory, as rpmbuild writes them.
func addFiles(h *headerBuilder, files []File, source bool) {
	n := len(files)
	var (
		sizes, modes, rdevs, mtimes, flags, verify = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		devices, inodes, dirIndexes                = make([]int64, n), make([]int64, n), make([]int64, n)
		digests, links, users, groups, langs       = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		basenames, dirnames                        = make([]string, n), []string(nil)
	)
	dirIndex := map[string]int{}
	for i, f := range files {
		sizes[i] = f.size()
		modes[i] = int64(unixMode(f.Mode))
		mtimes[i] = f.ModTime.Unix()
		verify[i] = verifyAll
		devices[i], inodes[i] = 1, int64(i+1)
		users[i], groups[i], links[i] = f.User, f.Group, f.Link
		if f.Mode.Type() == 0 {
			sum := sha256.Sum256(f.Body)
			digests[i] = hex.EncodeToString(sum[:])
		}
		dir, base := "", f.Path
		if !source {
			dir, base = path.Split(f.Path)
		}
		if source && strings.HasSuffix(f.Path, ".spec") {
			flags[i] = fileSpecFile
		}
		idx, ok := dirIndex[dir]
		if !ok {
			idx = len(dirnames)
			dirIndex[dir] = idx
			dirnames = append(dirnames, dir)
		}
		basenames[i], dirIndexes[i] = base, int64(idx)
	}
	h.ints(TagFileSizes, TypeInt32, sizes...)
	h.ints(TagFileModes, TypeInt16, modes...)
	h.ints(TagFileRdevs, TypeInt16, rdevs...)
	h.ints(TagFileMtimes, TypeInt32, mtimes...)
	h.strs(TagFileDigests, digests)
	h.strs(TagFileLinkTos, links)
	h.ints(TagFileFlags, TypeInt32, flags...)
	h.strs(TagFileUsername, users)
	h.strs(TagFileGroupname, groups)
	h.ints(TagFileVerifyFlags, TypeInt32, verify...)
	h.ints(TagFileDevices, TypeInt32, devices...)
	h.ints(TagFileInodes, TypeInt32, inodes...)
	h.strs(TagFileLangs, langs)
	h.ints(TagDirIndexes, TypeInt32, dirIndexes...)
	h.strs(TagBasenames, basenames)
	h.strs(TagDirnames, dirnames)
	h.ints(TagFileDigestAlgo, TypeInt32, digestSHA256)
}
