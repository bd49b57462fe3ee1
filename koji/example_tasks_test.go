package koji_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"time"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// tasksExampleHub stands in for a Koji hub in the examples. Build task 10
// opens on builder-01, starts buildArch subtask 11 and closes after it;
// listTasks finds one failed buildArch task.
func tasksExampleHub() *httptest.Server {
	var mu sync.Mutex
	polls := map[int64]int{}
	states := map[int64][]int{10: {0, 1, 1, 2}, 11: {1, 2}} // FREE, OPEN, CLOSED
	requests := map[int64][]any{
		10: {"git+https://src.example.org/rpms/hello.git#1a2b", "f43", map[string]any{}},
		11: {"tasks/10/10/hello-1.0-1.src.rpm", 3, "x86_64", false, map[string]any{}},
	}
	methods := map[int64]string{10: "build", 11: "buildArch"}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		call, err := xmlrpc.DecodeCall(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var id int64
		if len(call.Params) > 0 {
			_ = call.Params[0].Decode(&id)
		}
		mu.Lock()
		defer mu.Unlock()
		var reply any
		switch call.Method {
		case "getTaskInfo":
			n := polls[id]
			polls[id]++
			state := states[id][min(n, len(states[id])-1)]
			reply = map[string]any{"id": id, "method": methods[id], "arch": "noarch", "state": state,
				"host_id": 1, "request": requests[id]}
		case "getTaskChildren":
			reply = []any{}
			if id == 10 && polls[10] > 1 {
				reply = []any{map[string]any{"id": 11, "method": "buildArch"}}
			}
		case "getHost":
			reply = map[string]any{"id": 1, "name": "builder-01"}
		case "listTasks":
			reply = []any{map[string]any{"id": 21, "method": "buildArch", "arch": "aarch64", "state": 5,
				"request": []any{"tasks/20/20/hello-1.0-1.src.rpm", 3, "aarch64", false, map[string]any{}},
				"result":  map[string]any{"faultCode": 1005, "faultString": "mock exited with status 1"}}}
		}
		w.Header().Set("Content-Type", "text/xml")
		_ = xmlrpc.NewEncoder(w).EncodeResponse(reply)
	}))
}

// Watch a build as `koji watch-task` does, writing the same lines.
func ExampleWatchTasks() {
	hub := tasksExampleHub()
	defer hub.Close()
	c, err := koji.NewClient(hub.URL + "/kojihub")
	if err != nil {
		log.Fatal(err)
	}

	ok, err := koji.WatchTasks(context.Background(), c, []int{10}, koji.WatchOptions{
		PollInterval: time.Millisecond, // the profile's 6 s by default
		Output:       os.Stdout,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("succeeded:", ok)
	// Output:
	// Watching tasks (this may be safely interrupted)...
	// 10 build (f43, /rpms/hello.git:1a2b): free
	// 10 build (f43, /rpms/hello.git:1a2b): free -> open (builder-01)
	//   11 buildArch (hello-1.0-1.src.rpm, x86_64): open (builder-01)
	//   11 buildArch (hello-1.0-1.src.rpm, x86_64): open (builder-01) -> closed
	//   0 free  1 open  1 done  0 failed
	// 10 build (f43, /rpms/hello.git:1a2b): open (builder-01) -> closed
	//   0 free  0 open  2 done  0 failed
	//
	// 10 build (f43, /rpms/hello.git:1a2b) completed successfully
	// succeeded: true
}

// Follow a build's tasks as events, for a program that reacts to them.
func ExampleClient_Watch() {
	hub := tasksExampleHub()
	defer hub.Close()
	c, err := koji.NewClient(hub.URL + "/kojihub")
	if err != nil {
		log.Fatal(err)
	}

	for ev, err := range c.Watch(context.Background(), []int{10}, koji.WatchOptions{PollInterval: time.Millisecond}) {
		if err != nil {
			log.Fatal(err)
		}
		what := ev.Task.Method
		if arch, _ := ev.Task.RequestArch(); arch != "" {
			what += " " + arch
		}
		switch {
		case ev.Previous == nil:
			fmt.Printf("task %d (%s) is %s\n", ev.Task.ID, what, ev.Task.State)
		case ev.Finished():
			fmt.Printf("task %d (%s) ended %s\n", ev.Task.ID, what, ev.Task.State)
		}
	}
	// Output:
	// task 10 (build) is FREE
	// task 11 (buildArch x86_64) is OPEN
	// task 11 (buildArch x86_64) ended CLOSED
	// task 10 (build) ended CLOSED
}

// List failed buildArch tasks, with what their parameters and results say.
func ExampleClient_ListTasks() {
	hub := tasksExampleHub()
	defer hub.Close()
	c, err := koji.NewClient(hub.URL + "/kojihub")
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	tasks, err := c.ListTasks(ctx, &koji.ListTasksOptions{
		Method: "buildArch",
		State:  []koji.TaskState{koji.TaskFailed},
		Decode: true,
	}, &koji.QueryOpts{Order: "-id", Limit: 10})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range tasks {
		pkg, err := t.Package()
		if err != nil {
			log.Fatal(err)
		}
		var failed *koji.TaskFailedError
		if errors.As(t.DecodeResult(new(any)), &failed) {
			fmt.Printf("%d %s: %s, %s: %s\n", t.ID, t.Label(), pkg, failed.Fault.Class().Name(), failed.Fault.String)
		}
	}
	// Output:
	// 21 buildArch (hello-1.0-1.src.rpm, aarch64): hello, BuildError: mock exited with status 1
}
