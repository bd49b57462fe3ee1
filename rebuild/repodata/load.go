package repodata

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// A Repo is a repo's metadata: repomd.xml and the packages of its
// primary metadata, in file order.
type Repo struct {
	MD       *RepoMD
	Packages []*Package
}

// A Loader reads repos from local directories and http(s) URLs.
type Loader struct {
	// HTTP fetches http(s) repos; http.DefaultClient when nil.
	HTTP   *http.Client
	Limits Limits
}

// Load reads the repo at base (a directory, a file:// URL or an http(s)
// URL of the directory holding repodata/) with its primary metadata,
// whose checksum is verified against repomd.xml's.
func (l *Loader) Load(ctx context.Context, base string) (*Repo, error) {
	repo := &Repo{}
	md, err := l.Walk(ctx, base, func(p *Package) error {
		repo.Packages = append(repo.Packages, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	repo.MD = md
	return repo, nil
}

// Walk reads the repo at base as Load does, but hands each package to fn
// as it is parsed instead of keeping them. Packages are handed over
// before the checksum can be verified at the end, so a ChecksumError
// means fn saw bad data.
func (l *Loader) Walk(ctx context.Context, base string, fn func(*Package) error) (*RepoMD, error) {
	limits := l.Limits.withDefaults()
	rc, err := l.open(ctx, base, "repodata/repomd.xml")
	if err != nil {
		return nil, err
	}
	md, err := ParseRepoMD(rc, limits)
	rc.Close()
	if err != nil {
		return nil, err
	}
	data := md.Find("primary")
	if data == nil {
		return nil, &FormatError{File: "repomd.xml", Err: fmt.Errorf("no primary metadata")}
	}
	file := path.Base(data.Href)
	if !filepath.IsLocal(filepath.FromSlash(data.Href)) {
		return nil, &FormatError{File: "repomd.xml", Err: fmt.Errorf("primary location %q outside the repo", data.Href)}
	}
	sum := newHash(data.Checksum.Type)
	if sum == nil {
		return nil, &ChecksumError{File: file, Type: data.Checksum.Type}
	}
	rc, err = l.open(ctx, base, data.Href)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	stored := io.TeeReader(rc, sum)
	r, err := decompress(stored, file)
	if err != nil {
		return nil, err
	}
	if err := ParsePrimary(r, file, limits, fn); err != nil {
		return nil, err
	}
	// The checksum covers the whole stored file, trailing bytes too.
	if _, err := io.Copy(io.Discard, stored); err != nil {
		return nil, fmt.Errorf("repodata: reading %s: %w", file, err)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != data.Checksum.Value {
		return nil, &ChecksumError{File: file, Type: data.Checksum.Type, Want: data.Checksum.Value, Got: got}
	}
	return md, nil
}

// decompress returns r decompressed after its magic number.
func decompress(r io.Reader, file string) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(6)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, &FormatError{File: file, Err: err}
		}
		return &wrapErrors{r: zr, file: file}, nil
	case bytes.HasPrefix(magic, []byte("BZh")):
		return &wrapErrors{r: bzip2.NewReader(br), file: file}, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return nil, &CompressionError{File: file, Compression: "zstd"}
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return nil, &CompressionError{File: file, Compression: "xz"}
	case strings.HasSuffix(file, ".lzma"):
		return nil, &CompressionError{File: file, Compression: "lzma"}
	}
	return br, nil
}

// wrapErrors makes a decompressor's errors FormatErrors of the file.
type wrapErrors struct {
	r    io.Reader
	file string
}

func (w *wrapErrors) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if err != nil && err != io.EOF {
		err = &FormatError{File: w.file, Err: err}
	}
	return n, err
}

// open opens a file of the repo at base.
func (l *Loader) open(ctx context.Context, base, rel string) (io.ReadCloser, error) {
	if strings.HasPrefix(base, "http://") || strings.HasPrefix(base, "https://") {
		url := strings.TrimSuffix(base, "/") + "/" + rel
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, fmt.Errorf("repodata: %w", err)
		}
		hc := l.HTTP
		if hc == nil {
			hc = http.DefaultClient
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("repodata: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("repodata: GET %s: %s", url, resp.Status)
		}
		return resp.Body, nil
	}
	dir := strings.TrimPrefix(base, "file://")
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, fmt.Errorf("repodata: %w", err)
	}
	return ctxReader{ctx: ctx, f: f}, nil
}

// ctxReader stops reading a local file when its context ends.
type ctxReader struct {
	ctx context.Context
	f   *os.File
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.f.Read(p)
}

func (r ctxReader) Close() error { return r.f.Close() }
