package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/estimates"
	"github.com/gokoji/gokoji/koji"
)

// watchInterval is how often the watch polls the hub: often, since the
// build takes a second or two.
const watchInterval = 200 * time.Millisecond

// timeFormat is how times are printed.
const timeFormat = "2006-01-02 15:04:05 MST"

// run does the quickstart, writing its report to out.
func run(ctx context.Context, out io.Writer, opts options) (err error) {
	arch, err := machineArch()
	if err != nil {
		return err
	}
	dir := opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "gokoji-quickstart-"); err != nil {
			return err
		}
		defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
	} else if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	pkgDir, err := fs.Sub(helloFiles, "hello")
	if err != nil {
		return err
	}
	src, err := loadSources(pkgDir)
	if err != nil {
		return err
	}
	rpmbuild := ""
	if opts.PureGo {
		fmt.Fprintln(out, "-pure-go: building hello with gokoji's pure-Go RPM writer instead of rpmbuild")
	} else if rpmbuild, err = exec.LookPath("rpmbuild"); err != nil {
		rpmbuild = ""
		fmt.Fprintln(out, "rpmbuild not found: building hello with gokoji's pure-Go RPM writer instead")
	}
	var buildArch builder.Handler = pureGoBuildArch{}
	if rpmbuild != "" {
		buildArch = &builder.BuildArch{RPMBuild: rpmbuild}
	}
	if opts.wrapBuildArch != nil {
		buildArch = opts.wrapBuildArch(buildArch)
	}

	w, err := startWorld(ctx, dir, arch, buildArch, opts.logger())
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, w.stop()) }()
	fmt.Fprintf(out, "Started a Koji hub at %s (SQLite), and the builder %s (%s) in this process\n", w.hub.URL(), hostName, arch)
	if err := setUp(ctx, w.admin, arch); err != nil {
		return err
	}
	fmt.Fprintf(out, "Created the tags %s and %s (arches %s, inheriting from %s), the target %s (%[2]s -> %[1]s), and added hello to %[1]s\n",
		destTag, buildTag, arch, destTag, target)

	srpm, err := makeSRPM(ctx, out, rpmbuild, filepath.Join(dir, "srpm"), src)
	if err != nil {
		return err
	}
	taskID, err := submit(ctx, out, w.admin, srpm)
	if err != nil {
		return err
	}
	ok, err := koji.WatchTasks(ctx, w.admin, []int{taskID}, koji.WatchOptions{PollInterval: watchInterval, Output: out, TopURL: w.filesURL()})
	if err != nil {
		return err
	}
	if !ok {
		if ferr := w.admin.GetTaskResult(ctx, taskID, true, nil); ferr != nil {
			return fmt.Errorf("build task %d failed: %w", taskID, ferr)
		}
		return fmt.Errorf("build task %d did not complete", taskID)
	}
	fmt.Fprintln(out)
	return report(ctx, out, w, src.nvr())
}

// setUp makes the tag tree, the target and hello's package list entry,
// as an admin does with koji add-tag, add-target and add-pkg.
func setUp(ctx context.Context, c *koji.Client, arch string) error {
	if _, err := c.CreateTag(ctx, destTag, nil); err != nil {
		return fmt.Errorf("createTag %s: %w", destTag, err)
	}
	if _, err := c.CreateTag(ctx, buildTag, &koji.CreateTagOptions{Parent: destTag, Arches: arch}); err != nil {
		return fmt.Errorf("createTag %s: %w", buildTag, err)
	}
	if err := c.Call(ctx, "createBuildTarget", nil, target, buildTag, destTag); err != nil {
		return fmt.Errorf("createBuildTarget: %w", err)
	}
	if err := c.PackageListAdd(ctx, destTag, "hello", &koji.PackageListAddOptions{Owner: adminName}); err != nil {
		return fmt.Errorf("packageListAdd: %w", err)
	}
	return nil
}

// makeSRPM makes hello's SRPM in dir, with rpmbuild when there is one.
func makeSRPM(ctx context.Context, out io.Writer, rpmbuild, dir string, src *sources) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if rpmbuild == "" {
		srpm, err := writeSRPM(dir, src)
		if err == nil {
			fmt.Fprintf(out, "Wrote %s with gokoji's RPM writer (internal/rpm)\n", filepath.Base(srpm))
		}
		return srpm, err
	}
	srpm, err := rpmbuildSRPM(ctx, rpmbuild, dir, src)
	if err == nil {
		fmt.Fprintf(out, "Built %s with rpmbuild -bs\n", filepath.Base(srpm))
	}
	return srpm, err
}

// submit uploads the SRPM and starts its build, as koji build does.
func submit(ctx context.Context, out io.Writer, c *koji.Client, srpm string) (int, error) {
	serverDir := koji.UniqueUploadPath("cli-build")
	fmt.Fprintf(out, "Uploading srpm: %s\n", filepath.Base(srpm))
	if err := c.UploadFile(ctx, srpm, serverDir, "", nil); err != nil {
		return 0, err
	}
	id, err := c.Build(ctx, serverDir+"/"+filepath.Base(srpm), target, nil)
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(out, "Created task: %d\n", id)
	return id, nil
}

// report prints the build, its RPMs and the estimate of its next build.
func report(ctx context.Context, out io.Writer, w *world, nvr string) error {
	c := w.admin
	b, err := c.GetBuild(ctx, nvr, &koji.GetBuildOptions{Strict: true})
	if err != nil {
		return fmt.Errorf("getBuild: %w", err)
	}
	tags, err := c.ListTags(ctx, &koji.ListTagsOptions{Build: b.ID})
	if err != nil {
		return fmt.Errorf("listTags: %w", err)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "BUILD: %s [%d]\n", b.NVR, b.ID)
	fmt.Fprintf(tw, "State:\t%s\n", b.State)
	fmt.Fprintf(tw, "Built by:\t%s\n", b.OwnerName)
	if b.TaskID != nil {
		fmt.Fprintf(tw, "Task:\t%d\n", *b.TaskID)
	}
	if start, ok := b.Started(); ok {
		fmt.Fprintf(tw, "Started:\t%s\n", start.Format(timeFormat))
	}
	if end, ok := b.Completed(); ok {
		fmt.Fprintf(tw, "Completed:\t%s\n", end.Format(timeFormat))
	}
	for _, t := range tags {
		fmt.Fprintf(tw, "Tag:\t%s\n", t.Name)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	rpms, err := c.ListRPMs(ctx, &koji.ListRPMsOptions{BuildID: b.ID})
	if err != nil {
		return fmt.Errorf("listRPMs: %w", err)
	}
	dir := filepath.Join(w.topDir, koji.PathInfo{}.Build(b))
	fmt.Fprintf(out, "\nRPMs (in %s):\n", filepath.Join("packages", b.Name, b.Version, b.Release))
	for _, r := range rpms {
		if _, err := os.Stat(filepath.Join(dir, koji.PathInfo{}.RPM(r))); err != nil {
			return fmt.Errorf("the hub lists %s, but: %w", r.Filename(), err)
		}
		fmt.Fprintf(tw, "  %s\t%d bytes\tpayloadhash %s\n", r.Filename(), r.Size, r.PayloadHash)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	e := &estimates.Estimator{Client: c}
	avg, ok, err := e.AverageBuildDuration(ctx, b.Name)
	switch {
	case err != nil:
		return fmt.Errorf("estimate: %w", err)
	case !ok:
		return fmt.Errorf("estimate: the hub has no average duration for %s, which just completed", b.Name)
	}
	took, _ := b.Duration(time.Now())
	fmt.Fprintf(out, "\nThis build took %v; the next %s build should take about %v (the hub's average of its complete builds).\n",
		roundDuration(took), b.Name, roundDuration(avg))
	return nil
}

// roundDuration rounds d to a tenth of a second, as precise as a build's
// duration is worth showing.
func roundDuration(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) }
