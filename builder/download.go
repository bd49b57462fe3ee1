package builder

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// FileURL is the URL of rel, a path in the hub's file tree (such as
// "work/cli-build/1.x/hello-1-1.src.rpm"), under the daemon's TopURL
// (kojid's topurl). A path with ".." elements is refused.
func (t *Task) FileURL(rel string) (string, error) {
	top := t.d.cfg.TopURL
	if top == "" {
		return "", errors.New("builder: topurl is not set: the hub's files cannot be downloaded")
	}
	u, err := url.Parse(top)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("builder: topurl %q is not an http(s) URL", top)
	}
	var elems []string
	for _, elem := range strings.Split(strings.Trim(rel, "/"), "/") {
		if elem == ".." {
			return "", fmt.Errorf("builder: %q leaves the hub's file tree", rel)
		}
		if elem != "" && elem != "." {
			elems = append(elems, elem)
		}
	}
	if len(elems) == 0 {
		return "", fmt.Errorf("builder: %q is not a file in the hub's file tree", rel)
	}
	return u.JoinPath(elems...).String(), nil
}

// Download fetches rel from the hub's file tree into the local file dest
// (made with its directories), as kojid's localPath does from topurl,
// with package koji's download: transient failures are retried, resuming
// with Range requests.
func (t *Task) Download(ctx context.Context, rel, dest string) error {
	u, err := t.FileURL(rel)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	if err := t.Client.DownloadFile(ctx, u, dest, nil); err != nil {
		return fmt.Errorf("builder: downloading %s: %w", rel, err)
	}
	return nil
}
