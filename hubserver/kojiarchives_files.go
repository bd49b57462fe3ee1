package hubserver

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/gokoji/gokoji/koji"
)

// listArchiveFiles is upstream's list_archive_files: the entries of a zip
// or tar archive (by its archive type's compression_type) in the build's
// directory, where koji.pathinfo puts the archive for its btype; an
// archive file that does not exist lists nothing, one of another type
// nothing (with strict a GenericError). queryOpts apply as
// _applyQueryOpts applies them.
func (k *Koji) listArchiveFiles(ctx context.Context, archiveID, queryOpts any, strict bool) (any, error) {
	files, err := k.archiveFiles(ctx, archiveID, strict)
	if err != nil {
		return nil, err
	}
	opts, err := memoryQueryOpts(queryOpts)
	if err != nil {
		return nil, err
	}
	return applyQueryOpts(files, opts)
}

// getArchiveFile is upstream's get_archive_file: the entry of
// listArchiveFiles named filename; None, or with strict a GenericError,
// when there is none.
func (k *Koji) getArchiveFile(ctx context.Context, archiveID any, filename any, strict bool) (any, error) {
	files, err := k.archiveFiles(ctx, archiveID, strict)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if f.(map[string]any)["name"] == filename {
			return f, nil
		}
	}
	if strict {
		return nil, fault(koji.ErrGeneric, "No such file: %s in archive#%s", pyFormat(filename), pyFormat(archiveID))
	}
	return nil, nil
}

// archiveFiles is list_archive_files before its queryOpts.
func (k *Koji) archiveFiles(ctx context.Context, archiveID any, strict bool) ([]any, error) {
	a, err := getArchive(ctx, archiveID, true)
	if err != nil {
		return nil, err
	}
	archive := a.(map[string]any)
	typ, err := lookupArchiveType(ctx, nil, nil, archive["type_id"], true)
	if err != nil {
		return nil, err
	}
	tx := storeTx(ctx)
	b, err := lookupBuild(ctx, tx, archive["build_id"], true)
	if err != nil {
		return nil, err
	}
	id := archive["id"].(int64)
	filename := archive["filename"].(string)
	kb := &koji.Build{Name: b.PackageName, Version: b.Version, Release: b.Release, VolumeName: b.VolumeName}
	top, topErr := k.topDir()
	pi := koji.PathInfo{TopDir: top}
	var path string
	switch bt, _ := archive["btype"].(string); bt {
	case "maven":
		m, err := mavenArchive(ctx, tx, id)
		if err != nil {
			return nil, err
		} else if m == nil {
			return nil, noRows()
		}
		path = pi.MavenBuild(kb) + "/" + pi.MavenFile(&koji.MavenInfo{GroupID: m["group_id"].(string),
			ArtifactID: m["artifact_id"].(string), Version: m["version"].(string), Filename: filename})
	case "win":
		w, err := winArchive(ctx, tx, id)
		if err != nil {
			return nil, err
		} else if w == nil {
			return nil, noRows()
		}
		path = pi.WinBuild(kb) + "/" + pi.WinFile(&koji.WinInfo{RelPath: w["relpath"].(string), Filename: filename})
	case "image":
		i, err := imageArchive(ctx, tx, id)
		if err != nil {
			return nil, err
		} else if i == nil {
			return nil, noRows()
		}
		path = pi.ImageBuild(kb) + "/" + filename
	case "":
		return nil, fault(koji.ErrGeneric, "Missing build type info for archive %s", pyFormat(archiveID))
	default:
		path = pi.TypeDir(kb, bt) + "/" + filename
	}
	var compression string
	if typ.CompressionType != nil {
		compression = *typ.CompressionType
	}
	if compression != "zip" && compression != "tar" {
		if strict {
			return nil, fault(koji.ErrGeneric, "Unsupported archive type: %s", typ.Name)
		}
		return []any{}, nil
	}
	if topErr != nil {
		return []any{}, nil // the hub keeps no files: no archive exists
	}
	if _, err := os.Stat(path); err != nil {
		return []any{}, nil // os.path.exists is false
	}
	if compression == "zip" {
		return zipEntries(id, path)
	}
	return tarEntries(ctx, id, path)
}

// zipEntries is _get_zipfile_list: archive_id, name, size and mtime (the
// entry's MS-DOS time in the hub's local time, as time.mktime reads
// ZipInfo.date_time) of each entry. Names without the UTF-8 flag are
// CP437, as zipfile decodes them.
func zipEntries(archiveID int64, path string) ([]any, error) {
	r, err := zip.OpenReader(path)
	if errors.Is(err, zip.ErrFormat) {
		return nil, pyException("zipfile.BadZipFile", "File is not a zip file")
	} else if err != nil {
		return nil, pyOSError(err, path)
	}
	defer r.Close()
	out := []any{}
	for _, f := range r.File {
		name := f.Name
		if f.Flags&0x800 == 0 {
			if name, err = charmap.CodePage437.NewDecoder().String(f.Name); err != nil {
				return nil, err
			}
		}
		d, t := int(f.ModifiedDate), int(f.ModifiedTime)
		mtime := time.Date((d>>9)+1980, time.Month((d>>5)&0xf), d&0x1f, t>>11, (t>>5)&0x3f, (t&0x1f)*2, 0, time.Local)
		out = append(out, map[string]any{"archive_id": archiveID, "name": name, "size": int64(f.UncompressedSize64),
			"mtime": mtime.Unix()})
	}
	return out, nil
}

// tarEntries is _get_tarball_list: archive_id, name (a directory's
// without its trailing slashes, as tarfile names it), size, mtime, mode,
// user and group of each member of a plain, gzip, bzip2 or xz tar file
// (xz read through the xz program), as tarfile.open(path, 'r') reads
// them.
func tarEntries(ctx context.Context, archiveID int64, path string) ([]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, pyOSError(err, path)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	magic, _ := br.Peek(6)
	var in io.Reader = br
	var wait func() error
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, tarReadError(path)
		}
		in = gz
	case bytes.HasPrefix(magic, []byte("BZh")):
		in = bzip2.NewReader(br)
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		cmd := exec.CommandContext(ctx, "xz", "--decompress", "--stdout")
		cmd.Stdin = br
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("hubserver: reading the xz archive %s needs the xz program: %w", path, err)
		}
		in = out
		wait = func() error {
			if err := cmd.Wait(); err != nil {
				return pyException("lzma.LZMAError", "%s", strings.TrimSpace(stderr.String()))
			}
			return nil
		}
		defer func() {
			if wait != nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
		}()
	}
	tr := tar.NewReader(in)
	out := []any{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			if len(out) == 0 {
				return nil, tarReadError(path)
			}
			return nil, pyException("tarfile.ReadError", "%v", err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		name := h.Name
		if h.Typeflag == tar.TypeDir {
			name = strings.TrimRight(name, "/")
		}
		var mtime any = h.ModTime.Unix()
		if s, ok := h.PAXRecords["mtime"]; ok && strings.Contains(s, ".") {
			if v, err := strconv.ParseFloat(s, 64); err == nil {
				mtime = v
			}
		}
		out = append(out, map[string]any{"archive_id": archiveID, "name": name, "size": h.Size, "mtime": mtime,
			"mode": h.Mode, "user": h.Uname, "group": h.Gname})
	}
	if wait != nil {
		_, _ = io.Copy(io.Discard, in)
		w := wait
		wait = nil
		if err := w(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// tarReadError is the ReadError tarfile.open(path, 'r') raises for a file
// no method opens, with the plain tar method's reason read from the
// file's first block.
func tarReadError(path string) error {
	reason := "bad checksum"
	if st, err := os.Stat(path); err == nil {
		switch {
		case st.Size() == 0:
			reason = "empty file"
		case st.Size() < 512:
			reason = "truncated header"
		}
	}
	return pyException("tarfile.ReadError", "file could not be opened successfully:\n- method tar: ReadError('%s')\n"+
		"- method gz: ReadError('not a gzip file')\n- method bz2: ReadError('not a bzip2 file')\n"+
		"- method xz: ReadError('not an lzma file')", reason)
}
