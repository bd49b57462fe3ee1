package koji_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/gokoji/gokoji/koji"
)

// recordedReply starts a hub that answers every call with the reply a
// real Koji 1.35.3 hub gave in the named recorded exchange.
func recordedReply(name string) *httptest.Server {
	reply, err := os.ReadFile("../internal/kojitest/testdata/wire/" + name + ".response.xml")
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write(reply)
	}))
}

func ExampleClient_GetBuild() {
	hub := recordedReply("getBuild_epoch")
	defer hub.Close()
	client, err := koji.NewClient(hub.URL + "/kojihub")
	if err != nil {
		fmt.Println(err)
		return
	}

	build, err := client.GetBuild(context.Background(), "bar-2.0-3.el9", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	if build == nil {
		fmt.Println("no such build")
		return
	}
	fmt.Println(build.LabelWithEpoch(), build.State, "owned by", build.OwnerName)
	completed, _ := build.Completed()
	fmt.Println("completed", completed.Format(time.RFC3339Nano))
	fmt.Println(build.URL("https://koji.example.org/koji"))
	fmt.Println(koji.PathInfo{TopDir: "https://kojipkgs.example.org"}.Build(build))
	// Output:
	// 2:bar-2.0-3.el9 COMPLETE owned by testuser
	// completed 2026-11-22T01:40:46.922628Z
	// https://koji.example.org/koji/buildinfo?buildID=2
	// https://kojipkgs.example.org/packages/bar/2.0/3.el9
}

func ExampleClient_ListTagged() {
	hub := recordedReply("listTagged_kwargs")
	defer hub.Close()
	client, err := koji.NewClient(hub.URL + "/kojihub")
	if err != nil {
		fmt.Println(err)
		return
	}

	// The latest build of each package in the tag and its parents, as
	// `koji list-tagged --latest --inherit anchor-dest` lists them.
	builds, err := client.ListTagged(context.Background(), "anchor-dest", &koji.ListTaggedOptions{Latest: 1, Inherit: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, b := range builds {
		fmt.Printf("%-16s %-12s %s\n", b.NVR, b.TagName, b.OwnerName)
	}
	// Output:
	// bar-2.0-3.el9    anchor-dest  testuser
	// foo-1.0-1        anchor-dest  kojiadmin
}

func ExampleClient_ListBuildsIter() {
	hub := recordedReply("listBuilds_queryOpts")
	defer hub.Close()
	client, err := koji.NewClient(hub.URL + "/kojihub")
	if err != nil {
		fmt.Println(err)
		return
	}

	// The two newest builds; without a limit the iterator would page
	// through every build, a thousand at a time.
	opts := &koji.ListBuildsOptions{QueryOpts: &koji.QueryOpts{Limit: 2, Order: "-build_id"}}
	for b, err := range client.ListBuildsIter(context.Background(), opts) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(b.ID, b.NVR)
	}
	// Output:
	// 3 wirepkg-1.0-1
	// 2 bar-2.0-3.el9
}

func ExampleClient_GetUser() {
	hub := recordedReply("getUser_nonexistent")
	defer hub.Close()
	client, err := koji.NewClient(hub.URL + "/kojihub")
	if err != nil {
		fmt.Println(err)
		return
	}

	// A missing object is nil, not an error, unless the call is strict.
	user, err := client.GetUser(context.Background(), "nobody-here", nil)
	fmt.Println(user, err)
	// Output:
	// <nil> <nil>
}

func ExamplePathInfo() {
	files := koji.PathInfo{TopDir: "https://kojipkgs.fedoraproject.org/"}
	build := &koji.Build{Name: "bash", Version: "5.2.26", Release: "3.fc40"}
	rpm := &koji.RPM{Name: "bash", Version: "5.2.26", Release: "3.fc40", Arch: "x86_64"}

	fmt.Println(files.Build(build) + "/" + files.RPM(rpm))
	fmt.Println(files.Build(build) + "/" + files.Signed(rpm, "a15b79cc"))
	fmt.Println(files.Task(118412436, ""))
	fmt.Println(koji.PathInfo{TopDir: "/mnt/koji"}.Repo(5872, "f40-build"))
	// Output:
	// https://kojipkgs.fedoraproject.org/packages/bash/5.2.26/3.fc40/x86_64/bash-5.2.26-3.fc40.x86_64.rpm
	// https://kojipkgs.fedoraproject.org/packages/bash/5.2.26/3.fc40/data/signed/a15b79cc/x86_64/bash-5.2.26-3.fc40.x86_64.rpm
	// https://kojipkgs.fedoraproject.org/work/tasks/2436/118412436
	// /mnt/koji/repos/f40-build/5872
}

func ExampleParseWebURL() {
	const weburl = "https://koji.fedoraproject.org/koji"
	obj, err := koji.ParseWebURL(weburl, "https://koji.fedoraproject.org/koji/taskinfo?taskID=118412436")
	fmt.Println(obj.Kind, obj.ID, err)

	_, err = koji.ParseWebURL(weburl, "https://koji.fedoraproject.org/koji/taskinfo?taskID=latest")
	fmt.Println(err)
	// Output:
	// task 118412436 <nil>
	// koji: "https://koji.fedoraproject.org/koji/taskinfo?taskID=latest" has no numeric object ID
}

func ExampleParseBuildState() {
	state, err := koji.ParseBuildState("failed")
	fmt.Println(int(state), state, err)
	// Output:
	// 3 FAILED <nil>
}
