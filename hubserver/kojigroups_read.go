package hubserver

import (
	"context"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/xmlrpc"
)

// A tagGroup is a group as upstream's get_tag_groups has it: the first
// group_config row found through the inheritance, with the package list
// and the group requirements (each by first row found, blocked ones
// included) when they were asked for.
type tagGroup struct {
	store.GroupConfig
	withPkgs, withReqs bool
	packages           []store.GroupPackage
	reqs               []store.GroupReq
}

func (g *tagGroup) pkg(name string) *store.GroupPackage {
	if i := slices.IndexFunc(g.packages, func(p store.GroupPackage) bool { return p.Package == name }); i >= 0 {
		return &g.packages[i]
	}
	return nil
}

func (g *tagGroup) req(id int64) *store.GroupReq {
	if i := slices.IndexFunc(g.reqs, func(r store.GroupReq) bool { return r.ReqID == id }); i >= 0 {
		return &g.reqs[i]
	}
	return nil
}

// tagGroups is get_tag_groups' dict of group id to group, in insertion
// order.
type tagGroups struct {
	order []*tagGroup
	byID  map[int64]*tagGroup
}

// readGroups is upstream's get_tag_groups: the tag's groups and, with
// inherit, its ancestors' in full-inheritance order, the first found
// winning; packages and requirements of blocked groups are left out, and
// so are requirements on groups the tag does not have or blocks.
func readGroups(ctx context.Context, tx *store.Tx, tagID int64, asOf *int64, inherit, pkgs, reqs bool) (*tagGroups, error) {
	tags := []int64{tagID}
	if inherit {
		links, err := fullInheritance(ctx, tx, tagID, asOf, false)
		if err != nil {
			return nil, err
		}
		for _, l := range links {
			tags = append(tags, l["parent_id"].(int64))
		}
	}
	out := &tagGroups{byID: map[int64]*tagGroup{}}
	for _, t := range tags {
		rows, err := tx.GroupConfigs(ctx, t, asOf)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if out.byID[r.GroupID] == nil {
				g := &tagGroup{GroupConfig: r, withPkgs: pkgs, withReqs: reqs}
				out.byID[r.GroupID] = g
				out.order = append(out.order, g)
			}
		}
	}
	if pkgs {
		for _, t := range tags {
			rows, err := tx.GroupPackages(ctx, t, asOf)
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				if g := out.byID[r.GroupID]; g != nil && !g.Blocked && g.pkg(r.Package) == nil {
					g.packages = append(g.packages, r)
				}
			}
		}
	}
	if reqs {
		for _, t := range tags {
			rows, err := tx.GroupReqs(ctx, t, asOf)
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				g, req := out.byID[r.GroupID], out.byID[r.ReqID]
				if g != nil && !g.Blocked && req != nil && !req.Blocked && g.req(r.ReqID) == nil {
					g.reqs = append(g.reqs, r)
				}
			}
		}
	}
	return out, nil
}

// getTagGroupsCall is upstream's readTagGroups (getTagGroups): the
// groups as a list, blocked groups, packages and requirements left out
// unless incl_blocked.
func getTagGroupsCall(ctx context.Context, tag, event, inherit, inclPkgs, inclReqs, inclBlocked any) ([]map[string]any, error) {
	asOf, err := tagEvent(event)
	if err != nil {
		return nil, err
	}
	tx := storeTx(ctx)
	t, err := tagRef(ctx, tx, tag, true)
	if err != nil {
		return nil, err
	}
	groups, err := readGroups(ctx, tx, t.ID, asOf, xmlrpc.Truthy(inherit), xmlrpc.Truthy(inclPkgs), xmlrpc.Truthy(inclReqs))
	if err != nil {
		return nil, err
	}
	blocked := xmlrpc.Truthy(inclBlocked)
	out := []map[string]any{}
	for _, g := range groups.order {
		if blocked || !g.Blocked {
			out = append(out, g.wire(blocked))
		}
	}
	return out, nil
}

// wire is the group as readTagGroups answers it.
func (g *tagGroup) wire(inclBlocked bool) map[string]any {
	m := map[string]any{"name": g.Name, "group_id": g.GroupID, "tag_id": g.TagID, "blocked": g.Blocked,
		"exported": ptrValue(g.Exported), "display_name": g.DisplayName, "is_default": ptrValue(g.IsDefault),
		"uservisible": ptrValue(g.UserVisible), "description": ptrValue(g.Description), "langonly": ptrValue(g.LangOnly),
		"biarchonly": ptrValue(g.BiarchOnly)}
	if g.withPkgs {
		list := []any{}
		for _, p := range g.visiblePackages(inclBlocked) {
			list = append(list, map[string]any{"group_id": p.GroupID, "tag_id": p.TagID, "package": p.Package,
				"blocked": p.Blocked, "type": p.Type, "basearchonly": ptrValue(p.BasearchOnly), "requires": ptrValue(p.Requires)})
		}
		m["packagelist"] = list
	}
	if g.withReqs {
		list := []any{}
		for _, r := range g.visibleReqs(inclBlocked) {
			list = append(list, map[string]any{"group_id": r.GroupID, "tag_id": r.TagID, "req_id": r.ReqID, "name": r.Name,
				"blocked": r.Blocked, "type": ptrValue(r.Type), "is_metapkg": r.IsMetapkg})
		}
		m["grouplist"] = list
	}
	return m
}

func (g *tagGroup) visiblePackages(inclBlocked bool) []store.GroupPackage {
	if inclBlocked {
		return g.packages
	}
	return slices.DeleteFunc(slices.Clone(g.packages), func(p store.GroupPackage) bool { return p.Blocked })
}

func (g *tagGroup) visibleReqs(inclBlocked bool) []store.GroupReq {
	if inclBlocked {
		return g.reqs
	}
	return slices.DeleteFunc(slices.Clone(g.reqs), func(r store.GroupReq) bool { return r.Blocked })
}

// repoComps is groups/comps.xml of a repo: koji.generate_comps of
// readTagGroups(tag, event, inherit=True), with the build groups'
// required groups expanded, as repo_init writes it.
func repoComps(ctx context.Context, tx *store.Tx, tagID, eventID int64) (string, error) {
	groups, err := readGroups(ctx, tx, tagID, &eventID, true, true, true)
	if err != nil {
		return "", err
	}
	var visible []*tagGroup
	for _, g := range groups.order {
		if !g.Blocked {
			visible = append(visible, g)
		}
	}
	return generateComps(visible, true), nil
}

// generateComps is koji.generate_comps over groups with their blocked
// entries left out. Unlike upstream it escapes the XML special characters
// in names and texts, which upstream writes as they are (making the file
// unreadable); None members are written "None" as upstream's %s does.
func generateComps(groups []*tagGroup, expandGroups bool) string {
	esc := func(s string) string {
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
		return b.String()
	}
	boolText := func(b *bool) string {
		if b != nil && *b {
			return "true"
		}
		return "false"
	}
	optText := func(s *string) string {
		if s == nil {
			return "None"
		}
		return esc(*s)
	}
	byName := map[string]*tagGroup{}
	for _, g := range groups {
		byName[g.Name] = g
	}
	sorted := slices.Clone(groups)
	slices.SortStableFunc(sorted, func(a, b *tagGroup) int { return strings.Compare(a.Name, b.Name) })
	packages := func(g *tagGroup) []store.GroupPackage {
		ps := g.visiblePackages(false)
		slices.SortStableFunc(ps, func(a, b store.GroupPackage) int { return strings.Compare(a.Package, b.Package) })
		return ps
	}
	entry := func(p store.GroupPackage) string {
		opts := fmt.Sprintf(`type="%s"`, esc(p.Type))
		if p.BasearchOnly != nil && *p.BasearchOnly {
			opts += ` basearchonly="true"`
		}
		if p.Requires != nil && *p.Requires != "" {
			opts += fmt.Sprintf(` requires="%s"`, esc(*p.Requires))
		}
		return fmt.Sprintf("      <packagereq %s>%s</packagereq>\n", opts, esc(p.Package))
	}
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\"?>\n<!DOCTYPE comps PUBLIC \"-//Red Hat, Inc.//DTD Comps info//EN\" \"comps.dtd\">\n\n" +
		"<!-- Auto-generated by the build system -->\n<comps>\n")
	for _, g := range sorted {
		fmt.Fprintf(&b, "  <group>\n    <id>%s</id>\n    <name>%s</name>\n    <description>%s</description>\n"+
			"    <default>%s</default>\n    <uservisible>%s</uservisible>\n",
			esc(g.Name), esc(g.DisplayName), optText(g.Description), boolText(g.IsDefault), boolText(g.UserVisible))
		if g.BiarchOnly != nil && *g.BiarchOnly {
			b.WriteString("    <biarchonly>true</biarchonly>\n")
		}
		reqs := g.visibleReqs(false)
		if len(reqs) > 0 && !expandGroups {
			reqs = slices.Clone(reqs)
			slices.SortStableFunc(reqs, func(a, b store.GroupReq) int { return strings.Compare(a.Name, b.Name) })
			b.WriteString("    <grouplist>\n")
			for _, r := range reqs {
				tag := "groupreq"
				if r.IsMetapkg {
					tag = "metapkg"
				}
				if r.Type != nil && *r.Type != "" {
					fmt.Fprintf(&b, "      <%s type=\"%s\">%s</%s>\n", tag, esc(*r.Type), esc(r.Name), tag)
				} else {
					fmt.Fprintf(&b, "      <%s>%s</%s>\n", tag, esc(r.Name), tag)
				}
			}
			b.WriteString("    </grouplist>\n")
		}
		b.WriteString("    <packagelist>\n")
		for _, p := range packages(g) {
			b.WriteString(entry(p))
		}
		if expandGroups && len(reqs) > 0 {
			// Every package of the groups g requires, transitively, each
			// group once, as mock's groupinstall of the build group needs.
			var need []string
			for _, r := range reqs {
				need = append(need, r.Name)
			}
			seenGroup := map[string]bool{g.Name: true}
			seenPkg := map[string]bool{}
			for _, p := range g.visiblePackages(false) {
				seenPkg[p.Package] = true
			}
			for i := 0; i < len(need); i++ {
				name := need[i]
				if seenGroup[name] {
					continue
				}
				seenGroup[name] = true
				req := byName[name]
				if req == nil {
					fmt.Fprintf(&b, "      <!-- MISSING GROUP: %s -->\n", esc(name))
					continue
				}
				fmt.Fprintf(&b, "      <!-- Expanding Group: %s -->\n", esc(name))
				for _, p := range packages(req) {
					if !seenPkg[p.Package] {
						b.WriteString(entry(p))
					}
				}
				for _, r := range req.visibleReqs(false) {
					if !seenGroup[r.Name] {
						need = append(need, r.Name)
					}
				}
			}
		}
		b.WriteString("    </packagelist>\n  </group>\n")
	}
	b.WriteString("</comps>\n")
	return b.String()
}
