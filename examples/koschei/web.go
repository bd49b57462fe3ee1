package main

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/rebuild"
)

// statusPages serves the collection's read-only pages from the store.
type statusPages struct {
	store      *rebuild.Store
	collection string
	priorities rebuild.PriorityConfig
	// webURL is the hub's kojiweb, for links to tasks; none when empty.
	webURL string
	now    func() time.Time
	log    *slog.Logger
}

func (sp *statusPages) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", sp.collectionPage)
	mux.HandleFunc("GET /package/{name}", sp.packagePage)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { sp.notFound(w, "no such page") })
	return mux
}

// render writes the page, or a 500 when the template fails (nothing is
// written before it has run to the end).
func (sp *statusPages) render(w http.ResponseWriter, status int, name string, data any) {
	var b bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&b, name, data); err != nil {
		sp.log.Error("koschei: page failed", "page", name, "error", err.Error())
		http.Error(w, "page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

func (sp *statusPages) notFound(w http.ResponseWriter, what string) {
	sp.render(w, http.StatusNotFound, "notfound", what)
}

// failed answers a store error: 404 for what does not exist, else 500.
func (sp *statusPages) failed(w http.ResponseWriter, err error) {
	if errors.Is(err, rebuild.ErrNotFound) {
		sp.notFound(w, err.Error())
		return
	}
	sp.log.Error("koschei: store read failed", "error", err.Error())
	http.Error(w, "store read failed", http.StatusInternalServerError)
}

func (sp *statusPages) collectionPage(w http.ResponseWriter, r *http.Request) {
	s, err := sp.store.CollectionStatus(r.Context(), sp.collection, sp.priorities, sp.now())
	if err != nil {
		sp.failed(w, err)
		return
	}
	sp.render(w, http.StatusOK, "collection", struct {
		*rebuild.CollectionStatus
		Pages *statusPages
	}{s, sp})
}

func (sp *statusPages) packagePage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	row, err := sp.store.PackageRow(r.Context(), sp.collection, name, sp.priorities, sp.now())
	if err != nil {
		sp.failed(w, err)
		return
	}
	h, err := sp.store.PackageHistory(r.Context(), sp.collection, name, 0)
	if err != nil {
		sp.failed(w, err)
		return
	}
	sp.render(w, http.StatusOK, "package", struct {
		Collection string
		Row        *rebuild.PackageRow
		History    *rebuild.History
		Pages      *statusPages
	}{sp.collection, row, h, sp})
}

// TaskURL is the kojiweb page of a task, "" without a weburl.
func (sp *statusPages) TaskURL(id int64) string {
	if sp.webURL == "" {
		return ""
	}
	return (&koji.Task{ID: int(id)}).URL(sp.webURL)
}

var pageTemplates = template.Must(template.New("").Funcs(template.FuncMap{
	"when": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"whenp": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"prio": func(f float64) string { return fmt.Sprintf("%.1f", f) },
	"prio1": func(f *float64) string {
		if f == nil {
			return "—"
		}
		return fmt.Sprintf("%.1f", *f)
	},
	"evr": func(d *rebuild.Dependency) string {
		if d == nil {
			return "∅"
		}
		return d.EVR()
	},
	"kind": func(b *rebuild.Build) string {
		if b.Real {
			return "real"
		}
		return "scratch"
	},
	"resolved": func(b *bool) string {
		switch {
		case b == nil:
			return "not yet"
		case *b:
			return "yes"
		}
		return "no"
	},
}).Parse(`
{{define "head"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.}}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}
.ok{color:#060}.failing,.unresolved{color:#a00}.unknown,.untracked,.blocked{color:#666}</style></head><body>
{{end}}

{{define "foot"}}</body></html>
{{end}}

{{define "notfound"}}{{template "head" "Not found"}}<h1>Not found</h1><p>{{.}}</p><p><a href="/">Back to the collection</a></p>{{template "foot"}}{{end}}

{{define "parts"}}manual {{.Manual}}, static {{.Static}}, (dependency {{.Dependency}} + build {{.Build}} + time {{prio1 .Time}}) × {{.Coefficient}}{{end}}

{{define "collection"}}{{template "head" .Collection.DisplayName}}
<h1>{{.Collection.DisplayName}} <small>({{.Collection.Name}})</small></h1>
<p>State: <span class="collection-state {{.State}}">{{.State}}</span>.
Target {{.Collection.Target}}: build tag {{.Collection.BuildTag}}, destination tag {{.Collection.DestTag}};
latest repo {{with .Collection.LatestRepoID}}{{.}}{{else}}none yet{{end}}; priority coefficient {{.Collection.PriorityCoefficient}}.</p>
{{with .BuildrootProblems}}<h2>Buildroot problems</h2><ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
<h2>Packages</h2>
<table id="packages"><tr><th>Package</th><th>State</th><th>Priority</th><th>Parts</th><th>Last build</th></tr>
{{range .Packages}}<tr><td><a href="/package/{{.Package.Name}}">{{.Package.Name}}</a></td>
<td class="state {{.State}}">{{.State}}</td>
<td class="priority">{{if .Schedulable}}{{prio .Priority}}{{else}}— ({{.Reason}}){{end}}</td>
<td>{{template "parts" .Parts}}</td>
<td>{{with .LastBuild}}{{kind .}} {{.State}}, {{when .Started}}{{else}}none{{end}}</td></tr>
{{end}}</table>
{{template "foot"}}{{end}}

{{define "changes"}}{{if .}}<ul class="changes">{{range .}}<li><span class="dep">{{.Name}}</span> {{evr .Prev}} → {{evr .Curr}}{{if gt .Distance 0}} (distance {{.Distance}}){{else}} (distance unknown){{end}}</li>{{end}}</ul>{{else}}none{{end}}{{end}}

{{define "package"}}{{template "head" .Row.Package.Name}}
{{$pages := .Pages}}
<p><a href="/">{{.Collection}}</a></p>
<h1>{{.Row.Package.Name}}</h1>
<p>State: <span class="state {{.Row.State}}">{{.Row.State}}</span>.
{{if .Row.Package.Tracked}}Tracked{{else}}Not tracked{{end}}{{if .Row.Package.Blocked}}, blocked in the destination tag{{end}}.</p>
<p>Priority: <span class="priority">{{if .Row.Schedulable}}{{prio .Row.Priority}}{{else}}— ({{.Row.Reason}}){{end}}</span>:
{{template "parts" .Row.Parts}}.</p>
<h2>Changes since the last build</h2>
{{template "changes" .History.Unapplied}}
<h2>Builds</h2>
<table id="builds"><tr><th>Build</th><th>Kind</th><th>State</th><th>Version</th><th>Task</th><th>Started</th><th>Finished</th><th>Dependencies resolved</th><th>Dependency changes</th></tr>
{{range .History.Builds}}{{with .Build}}<tr><td>{{.ID}}</td><td>{{kind .}}</td><td class="build-state">{{.State}}</td>
<td>{{.Version}}-{{.Release}}</td>
<td>{{$u := $pages.TaskURL .TaskID}}{{if $u}}<a href="{{$u}}">{{.TaskID}}</a>{{else}}{{.TaskID}}{{end}}</td>
<td>{{when .Started}}</td><td>{{whenp .Finished}}</td><td>{{resolved .DepsResolved}}</td>{{end}}
<td>{{template "changes" .Changes}}</td></tr>
{{else}}<tr><td colspan="9">No builds yet.</td></tr>{{end}}</table>
{{with .History.Resolutions}}<h2>Resolution history</h2><ul>{{range .}}<li>{{when .Time}}: {{if .Resolved}}resolved{{else}}unresolved{{end}}{{with .RepoID}} in repo {{.}}{{end}}
{{with .Problems}}<ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}</li>{{end}}</ul>{{end}}
{{template "foot"}}{{end}}
`))
