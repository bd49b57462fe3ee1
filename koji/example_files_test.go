package koji_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"hash/adler32"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// filesExampleHub stands in for a Koji hub in the examples: it keeps raw
// uploads in memory and answers checkUpload, downloadTaskOutput (task 7
// has a build.log) and logout.
func filesExampleHub() *httptest.Server {
	var mu sync.Mutex
	files := map[string][]byte{}
	buildLog := []byte("Building hello-1.0-1.fc41\nWrote: hello-1.0-1.fc41.src.rpm\n")
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		enc := xmlrpc.NewEncoder(w)
		if r.Header.Get("Content-Type") == "application/octet-stream" {
			q := r.URL.Query()
			key := q.Get("filepath") + "/" + q.Get("filename")
			offset, _ := strconv.Atoi(q.Get("offset"))
			files[key] = append(files[key][:offset], body...)
			_ = enc.EncodeResponse(map[string]any{"size": len(body), "fileverify": "adler32", "offset": offset,
				"hexdigest": fmt.Sprintf("%08x", adler32.Checksum(body))})
			return
		}
		call, err := xmlrpc.DecodeCall(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var args []string
		for _, p := range call.Params {
			var v any
			_ = p.Decode(&v)
			args = append(args, fmt.Sprint(v))
		}
		switch call.Method {
		case "checkUpload":
			_ = enc.EncodeResponse(map[string]any{"size": len(files[args[0]+"/"+args[1]]), "mtime": 1795311651.4})
		case "downloadTaskOutput":
			var offset, size int
			_ = call.Kwargs["offset"].Decode(&offset)
			_ = call.Kwargs["size"].Decode(&size)
			end := len(buildLog)
			if size >= 0 {
				end = min(end, offset+size)
			}
			_ = enc.EncodeResponse(base64.StdEncoding.EncodeToString(buildLog[min(offset, end):end]))
		default:
			_ = enc.EncodeResponse(nil)
		}
	}))
}

// filesExampleLogin stands in for one of package auth's authenticators.
type filesExampleLogin struct{}

func (filesExampleLogin) Login(context.Context, *koji.Client, koji.LoginRequest) (koji.SessionInfo, error) {
	return koji.SessionInfo{ID: 1, Key: "1-example", HeaderAuth: true}, nil
}

func ExampleClient_Upload() {
	hub := filesExampleHub()
	defer hub.Close()

	ctx := context.Background()
	c, err := koji.NewClient(hub.URL + "/kojihub")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(ctx, filesExampleLogin{}); err != nil {
		log.Fatal(err)
	}

	// Upload to a fresh directory, as the koji CLI does before a build;
	// the build call then names the file "<dir>/hello.txt".
	dir := koji.UniqueUploadPath("cli-build")
	err = c.Upload(ctx, strings.NewReader("hello, koji"), dir, "hello.txt", &koji.UploadOptions{
		BlockSize: 4,
		Progress: func(p koji.UploadProgress) {
			fmt.Printf("uploaded %d/%d bytes\n", p.Uploaded, p.Total)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// uploaded 0/11 bytes
	// uploaded 4/11 bytes
	// uploaded 8/11 bytes
	// uploaded 11/11 bytes
}

func ExampleClient_TaskOutput() {
	hub := filesExampleHub()
	defer hub.Close()

	ctx := context.Background()
	c, err := koji.NewClient(hub.URL + "/kojihub")
	if err != nil {
		log.Fatal(err)
	}
	// Read task 7's build.log in 16-byte calls (koji watch-logs uses 16384).
	r, err := c.TaskOutput(ctx, 7, "build.log", &koji.TaskOutputOptions{ChunkSize: 16})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	if _, err := io.Copy(os.Stdout, r); err != nil {
		log.Fatal(err)
	}
	// Output:
	// Building hello-1.0-1.fc41
	// Wrote: hello-1.0-1.fc41.src.rpm
}

func ExampleClient_DownloadFile() {
	rpm := bytes.Repeat([]byte("rpm payload "), 1000)
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "hello.rpm", time.Time{}, bytes.NewReader(rpm)) // answers Range requests
	}))
	defer files.Close()

	p := koji.DefaultProfile()
	p.Server = "https://koji.example.org/kojihub"
	p.TopURL = files.URL + "/kojifiles"
	c, err := koji.NewClientFromProfile(p)
	if err != nil {
		log.Fatal(err)
	}
	u, err := c.FileURL("packages/hello/1.0/1.fc41/x86_64/hello-1.0-1.fc41.x86_64.rpm")
	if err != nil {
		log.Fatal(err)
	}

	// A download interrupted earlier left the first 5000 bytes behind;
	// Resume asks only for the rest, and Size checks the result.
	dir, err := os.MkdirTemp("", "koji-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	local := filepath.Join(dir, "hello-1.0-1.fc41.x86_64.rpm")
	if err := os.WriteFile(local, rpm[:5000], 0o644); err != nil {
		log.Fatal(err)
	}
	err = c.DownloadFile(context.Background(), u, local, &koji.DownloadOptions{Resume: true, Size: int64(len(rpm))})
	if err != nil {
		log.Fatal(err)
	}
	got, _ := os.ReadFile(local)
	fmt.Println(len(got), bytes.Equal(got, rpm))
	// Output:
	// 12000 true
}
