package hubserver

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/adler32"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gokoji/gokoji/koji"
)

// adler32Hash is upstream's koji.util.adler32_constructor: adler32 whose
// hexdigest is 8 lowercase hex digits.
type adler32Hash struct{ hash.Hash32 }

// verifyHash is upstream's get_verify_class(verify)(): a new hash of the
// named kind. An empty name has no class, which upstream then calls: the
// TypeError of calling None.
func verifyHash(verify any) (hash.Hash, error) {
	switch verify {
	case "md5":
		return md5.New(), nil
	case "adler32":
		return adler32Hash{adler32.New()}, nil
	case "sha256":
		return sha256.New(), nil
	case "", nil:
		return nil, pyException("TypeError", "'NoneType' object is not callable")
	}
	return nil, fault(koji.ErrGeneric, "Unsupported verify type: %s", pyFormat(verify))
}

// hexDigest is Python's hexdigest() of h.
func hexDigest(h hash.Hash) string {
	if a, ok := h.(adler32Hash); ok {
		return fmt.Sprintf("%08x", a.Sum32())
	}
	return hex.EncodeToString(h.Sum(nil))
}

// queryArgs parses a query string as upstream's parse_qs(qs,
// strict_parsing=True): fields split on "&", each needing a "="; "+" is a
// space and %XX escapes are decoded leniently (a bad one stays as it is);
// fields with a blank value are left out.
func queryArgs(qs string) (map[string][]string, error) {
	args := map[string][]string{}
	if qs == "" {
		return args, nil
	}
	for _, field := range strings.Split(qs, "&") {
		name, value, ok := strings.Cut(field, "=")
		if !ok {
			return nil, pyException("ValueError", "bad query field: %s", pyStr(field))
		}
		if value == "" {
			continue
		}
		name, value = pyUnquote(name), pyUnquote(value)
		args[name] = append(args[name], value)
	}
	return args, nil
}

// pyUnquote is Python's unquote_plus: "+" is a space, valid %XX escapes
// are bytes, and the result is UTF-8 with invalid sequences replaced.
func pyUnquote(s string) string {
	s = strings.ReplaceAll(s, "+", " ")
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := hex.DecodeString(s[i+1 : i+3]); err == nil {
				b = append(b, v[0])
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// queryArg is args.get(name, (def,))[0].
func queryArg(args map[string][]string, name, def string) string {
	if v, ok := args[name]; ok {
		return v[0]
	}
	return def
}

// logger is the hub's logger for calls outside a method (the raw upload).
func (k *Koji) logger() *slog.Logger {
	if k.cfg.Logger != nil {
		return k.cfg.Logger
	}
	return slog.Default()
}

// rawUpload is Config.Upload: upstream's handle_upload. The request body
// is a chunk of the file named by the query string (filename, filepath,
// fileverify, offset, overwrite, volume); it is written at offset (-1:
// appended), truncating the file there first, and answered with its size,
// digest and offset. The caller must be logged in; the session is
// validated here when the hub has not done it, with method "rawUpload",
// which no retry whitelist names (upstream's None).
//
// Unlike upstream, a call that fails leaves nothing behind: a file or
// directory it made is removed again, and a file that existed is cut back
// at the offset (upstream would keep what it had written). The body has
// normally been read ahead by spoolUploads, which answers 408 and 400 for
// it; read here, a body not read within the hub's ReadTimeout is answered
// 408 and another read error is a GenericError fault.
func (k *Koji) rawUpload(ctx context.Context, r *http.Request) (any, error) {
	if SessionFrom(ctx) == nil {
		s, err := k.authenticate(ctx, r)
		if err != nil {
			return nil, err
		}
		if s != nil {
			ctx = WithSession(ctx, s)
			callFrom(ctx).setCaller(s)
		}
	}
	log := callLogger(k.logger(), ctx, "rawUpload")
	start := time.Now()
	userID := callerID(ctx)
	if userID == 0 {
		return nil, fault(koji.ErrActionNotAllowed, "you must be logged-in to upload a file")
	}
	top, err := k.topDir()
	if err != nil {
		return nil, err
	}
	args, err := queryArgs(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	names, ok := args["filename"]
	if !ok {
		return nil, pyException("KeyError", "'filename'")
	}
	verify := queryArg(args, "fileverify", "")
	overwrite := queryArg(args, "overwrite", "") != ""
	offStr := queryArg(args, "offset", "0")
	offset, ok := pyParseInt(offStr)
	if !ok {
		return nil, pyException("ValueError", "invalid literal for int() with base 10: %s", pyStr(offStr))
	}
	d, err := uploadDestination(ctx, queryArg(args, "filepath", ""), names[0], queryArg(args, "volume", "DEFAULT"), true)
	if err != nil {
		return nil, err
	}
	w, err := openWork(top, d.volume, true)
	if err != nil {
		return nil, err
	}
	defer w.close()
	if !d.task {
		if err := w.checkOwner(d, userID); err != nil {
			return nil, err
		}
	}
	fn := w.dest(d)
	if fi, err := w.statDest(d); err != nil {
		return nil, err
	} else if fi != nil {
		if !fi.Mode().IsRegular() {
			return nil, fault(koji.ErrGeneric, "destination not a file: %s", fn)
		}
		if offset == 0 && !overwrite {
			return nil, fault(koji.ErrGeneric, "upload path exists: %s", fn)
		}
	}
	sum, err := verifyHash(verify)
	if err != nil {
		return nil, err
	}
	if offset < -1 {
		return nil, errEINVAL // upstream's ftruncate refuses it
	}

	u := &undo{w: w}
	res, err := k.writeUpload(ctx, r.Body, w, d, u, userID, offset, sum)
	if err != nil {
		u.run()
		log.Warn("upload failed", "path", fn, "offset", offset, "error", err)
		return nil, err
	}
	res["fileverify"] = verify
	log.Info("completed upload", "path", fn, "bytes", res["size"], "duration", time.Since(start))
	return res, nil
}

// writeUpload makes the destination and writes the body into it under an
// exclusive lock, as handle_upload does once its checks passed.
func (k *Koji) writeUpload(ctx context.Context, body io.Reader, w *workArea, d *uploadDest, u *undo, userID, offset int64, sum hash.Hash) (map[string]any, error) {
	if err := w.prepare(d, userID, u); err != nil {
		return nil, err
	}
	f, err := w.openDest(d, u)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	release, err := lockFile(f, true)
	if err != nil {
		return nil, lockError(err)
	}
	defer release()
	fn := w.dest(d)
	if offset == -1 {
		if offset, err = f.Seek(0, io.SeekEnd); err != nil {
			return nil, pyOSError(err, "")
		}
	} else {
		if err := f.Truncate(offset); err != nil {
			return nil, pyOSError(err, "")
		}
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			return nil, pyOSError(err, "")
		}
	}
	buf := make([]byte, 65536)
	var size int64
	for {
		if err := ctx.Err(); err != nil {
			f.Truncate(offset)
			return nil, err
		}
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, err := f.Write(buf[:n]); err != nil {
				f.Truncate(offset)
				return nil, pyOSError(err, fn)
			}
			sum.Write(buf[:n])
			size += int64(n)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			// What this call wrote goes again; the client sends the chunk anew.
			f.Truncate(offset)
			if isTimeout(rerr) {
				return nil, fmt.Errorf("timed out reading the upload at offset %d+%d: %w", offset, size, rerr)
			}
			return nil, fault(koji.ErrGeneric, "Error reading upload at offset %d+%d: %v", offset, size, rerr)
		}
	}
	return map[string]any{"size": size, "offset": offset, "hexdigest": hexDigest(sum)}, nil
}
