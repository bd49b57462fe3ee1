package hubserver

import (
	"context"
	"encoding/base64"
	"hash"
	"io"
	"math"
	"os"
	"strings"

	"github.com/gokoji/gokoji/koji"
)

// pyTimestamp is a time as Python's os.stat gives it: sec + nsec * 1e-9.
func pyTimestamp(sec, nsec int64) float64 { return float64(sec) + float64(nsec)*1e-9 }

// truthy is Python's truth value of a decoded XML-RPC value.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case []byte:
		return len(x) != 0
	case []any:
		return len(x) != 0
	case map[string]any:
		return len(x) != 0
	}
	return true
}

// checkUpload reports the size and modification time of an uploaded
// file, with verify also its digest (of its last tail bytes when tail is
// given) and how many bytes that covered; None when there is no such file.
// The file is locked shared meanwhile, so an upload in progress gives a
// LockError.
func (k *Koji) checkUpload(ctx context.Context, reldir, name string, verify any, tail *int64, volume any) (any, error) {
	top, err := k.topDir()
	if err != nil {
		return nil, err
	}
	d, err := uploadDestination(ctx, reldir, name, volume, false)
	if err != nil {
		return nil, err
	}
	w, err := openWork(top, d.volume, false)
	if w == nil || err != nil {
		return nil, err
	}
	defer w.close()
	rel, fn := d.rel(), w.dest(d)
	li, err := w.statDest(d)
	if li == nil || err != nil {
		return nil, err
	}
	f, err := w.root.Open(rel)
	if missing(err) {
		return nil, nil
	}
	if err != nil {
		return nil, pyOSError(err, fn)
	}
	defer f.Close()
	release, err := lockFile(f, false)
	if err != nil {
		return nil, lockError(err)
	}
	defer release()
	fi, err := f.Stat()
	if err != nil {
		return nil, pyOSError(err, fn)
	}
	// A symbolic link is refused, not followed.
	if !fi.Mode().IsRegular() || !li.Mode().IsRegular() || !os.SameFile(fi, li) {
		return nil, fault(koji.ErrGeneric, "Not a regular file: %s", fn)
	}
	_, mtime, _ := statTimes(fi)
	data := map[string]any{"size": fi.Size(), "mtime": mtime}
	if !truthy(verify) {
		return data, nil
	}
	sum, err := verifyHash(verify)
	if err != nil {
		return nil, err
	}
	if tail != nil {
		if *tail < 0 {
			return nil, fault(koji.ErrGeneric, "Invalid tail value: %d", *tail)
		}
		if _, err := f.Seek(max(fi.Size()-*tail, 0), io.SeekStart); err != nil {
			return nil, pyOSError(err, "")
		}
	}
	n, err := copyCtx(ctx, sum, f)
	if err != nil {
		return nil, err
	}
	data["sumlength"] = n
	data["hexdigest"] = hexDigest(sum)
	return data, nil
}

// copyCtx copies r into w, stopping when ctx ends.
func copyCtx(ctx context.Context, w io.Writer, r io.Reader) (int64, error) {
	buf := make([]byte, 65536)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, err := r.Read(buf)
		w.Write(buf[:m])
		n += int64(m)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, pyOSError(err, "")
		}
	}
}

// decodeInt is upstream's koji.decode_int: an int as is, anything else
// through Python's int(), with its exceptions.
func decodeInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case bool:
		return int64(boolInt(x)), nil
	case float64:
		switch {
		case math.IsNaN(x):
			return 0, pyException("ValueError", "cannot convert float NaN to integer")
		case math.IsInf(x, 0):
			return 0, pyException("OverflowError", "cannot convert float infinity to integer")
		case x >= math.MaxInt64 || x < math.MinInt64:
			return 0, pyException("OverflowError", "Python int too large to convert to C long")
		}
		return int64(x), nil
	case string:
		if n, ok := pyParseInt(x); ok {
			return n, nil
		}
		return 0, pyException("ValueError", "invalid literal for int() with base 10: %s", pyStr(x))
	case []byte:
		if n, ok := pyParseInt(string(x)); ok {
			return n, nil
		}
		return 0, pyException("ValueError", "invalid literal for int() with base 10: b%s", pyStr(string(x)))
	}
	return 0, pyException("TypeError", "int() argument must be a string, a bytes-like object or a real number, not '%s'", pyTypeName(v))
}

// pyB64Decode is Python's base64.b64decode of a str: characters outside
// the alphabet are dropped, and the padding must be right.
func pyB64Decode(s string) ([]byte, error) {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '+', r == '/', r == '=':
			return r
		}
		return -1
	}, s)
	b, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		return nil, pyException("binascii.Error", "Incorrect padding")
	}
	return b, nil
}

// uploadChecksum resolves uploadFile's md5sum and checksum arguments as
// upstream does: checksum, or else md5sum; a string is an MD5 digest,
// anything else a (type, digest) pair; None verifies nothing.
func uploadChecksum(md5sum, checksum any) (verify, digest any, err error) {
	if checksum == nil {
		checksum = md5sum
	}
	switch c := checksum.(type) {
	case nil:
		return nil, nil, nil
	case string:
		return "md5", c, nil
	case []any:
		switch {
		case len(c) < 2:
			return nil, nil, pyException("ValueError", "not enough values to unpack (expected 2, got %d)", len(c))
		case len(c) > 2:
			return nil, nil, pyException("ValueError", "too many values to unpack (expected 2)")
		}
		return c[0], c[1], nil
	}
	return nil, nil, pyException("TypeError", "cannot unpack non-iterable %s object", pyTypeName(checksum))
}

// uploadFile is upstream's legacy upload: data, base64, is stored at
// offset in the file name of the upload directory path. For a chunk
// (offset ≥ 0) size and the checksum describe data, and a mismatch answers
// False before anything is written; offset 0 starts the file anew, which
// is refused for an existing file unless its name ends in ".log". Offset
// -1 finishes the file: data is appended (after emptying the file when it
// is the whole of it), the file is cut to size and its checksum compared.
//
// Unlike upstream, the final call computes the digest first and answers
// False without touching the file when it does not match (upstream cuts
// the file to size either way), and a call that fails or answers False
// removes what it made.
func (k *Koji) uploadFile(ctx context.Context, reldir, name string, size, md5sum, offset any, data string, volume, checksum any) (bool, error) {
	if callerID(ctx) == 0 {
		return false, fault(koji.ErrActionNotAllowed, "you must be logged in for this operation")
	}
	top, err := k.topDir()
	if err != nil {
		return false, err
	}
	contents, err := pyB64Decode(data)
	if err != nil {
		return false, err
	}
	off, err := decodeInt(offset)
	if err != nil {
		return false, err
	}
	sz, err := decodeInt(size)
	if err != nil {
		return false, err
	}
	verify, digest, err := uploadChecksum(md5sum, checksum)
	if err != nil {
		return false, err
	}
	var newSum func() (hash.Hash, error)
	if verify != nil {
		// A false verify has no class (get_verify_class answers None), which
		// fails only when called.
		if truthy(verify) {
			if _, err := verifyHash(verify); err != nil {
				return false, err
			}
		}
		newSum = func() (hash.Hash, error) {
			if !truthy(verify) {
				return nil, pyException("TypeError", "'NoneType' object is not callable")
			}
			return verifyHash(verify)
		}
	}
	if off != -1 {
		if sz != int64(len(contents)) {
			return false, nil
		}
		if newSum != nil {
			sum, err := newSum()
			if err != nil {
				return false, err
			}
			sum.Write(contents)
			if digest != hexDigest(sum) {
				return false, nil
			}
		}
	}
	d, err := uploadDestination(ctx, reldir, name, volume, true)
	if err != nil {
		return false, err
	}
	w, err := openWork(top, d.volume, true)
	if err != nil {
		return false, err
	}
	defer w.close()
	userID := callerID(ctx)
	if !d.task {
		if err := w.checkOwner(d, userID); err != nil {
			return false, err
		}
	}
	fn := w.dest(d)
	if fi, err := w.statDest(d); err != nil {
		return false, err
	} else if fi != nil {
		if !fi.Mode().IsRegular() {
			return false, fault(koji.ErrGeneric, "destination not a file: %s", fn)
		}
		if off == 0 && !strings.HasSuffix(fn, ".log") {
			// .log files may be sent again, for real-time log viewing.
			return false, fault(koji.ErrGeneric, "file already exists: %s", fn)
		}
	}
	if off < -1 || off == -1 && sz < 0 {
		return false, errEINVAL // upstream's lseek or ftruncate refuses it
	}
	u := &undo{w: w}
	ok, err := k.writeLegacy(ctx, w, d, u, userID, off, sz, contents, newSum, digest)
	if err != nil || !ok {
		u.run()
	}
	return ok, err
}

// writeLegacy makes the destination and stores a legacy chunk in it,
// under an exclusive lock.
func (k *Koji) writeLegacy(ctx context.Context, w *workArea, d *uploadDest, u *undo, userID, off, size int64, contents []byte,
	newSum func() (hash.Hash, error), digest any) (bool, error) {
	if err := w.prepare(d, userID, u); err != nil {
		return false, err
	}
	f, err := w.openDest(d, u)
	if err != nil {
		return false, err
	}
	defer f.Close()
	release, err := lockFile(f, true)
	if err != nil {
		return false, lockError(err)
	}
	defer release()
	fn := w.dest(d)
	whole := off == 0 || off == -1 && size == int64(len(contents))
	if off >= 0 {
		if whole {
			if err := f.Truncate(0); err != nil {
				return false, pyOSError(err, fn)
			}
		}
		if _, err := f.WriteAt(contents, off); err != nil {
			return false, pyOSError(err, fn)
		}
		return true, nil
	}
	fi, err := f.Stat()
	if err != nil {
		return false, pyOSError(err, fn)
	}
	base := fi.Size() // where contents goes
	if whole {
		base = 0
	}
	if newSum != nil {
		sum, err := newSum()
		if err != nil {
			return false, err
		}
		// The file as it will be: its first base bytes, contents, cut or
		// padded with zeros to size.
		final := io.MultiReader(io.NewSectionReader(f, 0, base), strings.NewReader(string(contents)), zeros{})
		if _, err := copyCtx(ctx, sum, io.LimitReader(final, size)); err != nil {
			return false, err
		}
		if digest != hexDigest(sum) {
			return false, nil
		}
	}
	if whole {
		if err := f.Truncate(0); err != nil {
			return false, pyOSError(err, fn)
		}
	}
	if _, err := f.WriteAt(contents, base); err != nil {
		return false, pyOSError(err, fn)
	}
	if err := f.Truncate(size); err != nil {
		return false, pyOSError(err, fn)
	}
	return true, nil
}

// zeros reads as endless zero bytes, as a file extended by ftruncate.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
