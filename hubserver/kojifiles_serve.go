package hubserver

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
)

// FilesHandler serves the hub's file tree (KojiConfig.TopDir, upstream's
// KojiDir) read-only, as upstream's httpd serves KojiDir at the topurl
// (/kojifiles): builders download SRPMs and repodata from it and the
// koji CLI downloads build and task output. Mount it with the prefix
// stripped, e.g. mux.Handle("/kojifiles/", http.StripPrefix("/kojifiles",
// k.FilesHandler())).
func (k *Koji) FilesHandler() http.Handler { return FilesHandler(k.cfg.TopDir) }

// FilesHandler serves the directory top read-only: GET and HEAD only,
// with Range requests (koji's downloads resume with them) and directory
// listings, as httpd's Options Indexes. A path with ".." elements, and a
// symlink leading out of top, is not found: the files are opened in an
// os.Root, which refuses both.
func FilesHandler(top string) http.Handler {
	return &filesHandler{top: top}
}

type filesHandler struct{ top string }

func (f *filesHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// http.FileServer cleans the path itself; a ".." surviving in the
	// raw path is an attempt to leave the tree, answered plainly.
	if hasDotDot(r.URL.Path) {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	root, err := os.OpenRoot(f.top)
	if err != nil {
		http.Error(w, "files unavailable", http.StatusServiceUnavailable)
		return
	}
	defer root.Close()
	http.FileServerFS(notFoundFS{root.FS()}).ServeHTTP(w, r)
}

// hasDotDot reports whether p has a ".." element.
func hasDotDot(p string) bool {
	for elem := range strings.SplitSeq(p, "/") {
		if elem == ".." {
			return true
		}
	}
	return false
}

// notFoundFS reports every failure to open as a missing file, so that a
// symlink out of the tree (which os.Root refuses with another error)
// answers 404, not 500, and reveals nothing about what lies outside.
type notFoundFS struct{ fsys fs.FS }

func (n notFoundFS) Open(name string) (fs.File, error) {
	file, err := n.fsys.Open(path.Clean(name))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return file, err
}
