package hubserver

import (
	"context"
	"errors"
	"strings"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// externalRepoMethods are upstream's external repository calls (the
// repos and their links to tags, on migration 0011_external_repos) and
// the feature switches the koji CLI's taginfo asks about.
func (k *Koji) externalRepoMethods() []Method {
	tr := []Arg{{Name: "tag_info"}, {Name: "repo_info"}}
	return []Method{
		{Name: "mavenEnabled", PyName: "RootExports.mavenEnabled", Bound: true, Doc: "Get status of maven support",
			Func: func(context.Context) bool { return enableMaven }},
		{Name: "winEnabled", PyName: "RootExports.winEnabled", Bound: true, Doc: "Get status of windows support",
			Func: func(context.Context) bool { return enableWin }},
		{Name: "createExternalRepo", PyName: "create_external_repo", Args: []Arg{{Name: "name"}, {Name: "url"}},
			Doc:  "Create a new external repo with the given name and url.\n    Return a map containing the id, name, and url\n    of the new repo.",
			Func: createExternalRepo},
		{Name: "listExternalRepos", PyName: "get_external_repos",
			Args: []Arg{{Name: "info", Default: None}, {Name: "url", Default: None}, {Name: "event", Default: None},
				{Name: "queryOpts", Default: None}},
			Doc: "Get a list of external repos.  If info is not None it may be a\n    string (name) or an integer (id).\n" +
				"    If url is not None, filter the list of repos to those matching the\n    given url.",
			Func: listExternalRepos},
		{Name: "getExternalRepo", PyName: "get_external_repo",
			Args: []Arg{{Name: "info"}, {Name: "strict", Default: false}, {Name: "event", Default: None}},
			Doc:  getExternalRepoDoc,
			Func: func(ctx context.Context, info, strict, event any) (any, error) {
				r, err := getExternalRepo(ctx, info, xmlrpc.Truthy(strict), event)
				if r == nil || err != nil {
					return nil, err
				}
				return externalRepoData(r), nil
			}},
		{Name: "editExternalRepo", PyName: "edit_external_repo",
			Args: []Arg{{Name: "info"}, {Name: "name", Default: None}, {Name: "url", Default: None}},
			Doc:  "Edit an existing external repo", Func: editExternalRepo},
		{Name: "deleteExternalRepo", PyName: "delete_external_repo", Args: []Arg{{Name: "info"}},
			Doc: "\n    Remove an external repository for any tags and delete it.\n\n    :param info: external repository name or ID number\n" +
				"    :raises: GenericError if the repository does not exist.\n    ",
			Func: deleteExternalRepo},
		{Name: "addExternalRepoToTag", PyName: "add_external_repo_to_tag",
			Args: []Arg{tr[0], tr[1], {Name: "priority"}, {Name: "merge_mode", Default: "koji"}, {Name: "arches", Default: None}},
			Doc:  "Add an external repo to a tag", Func: addExternalRepoToTag},
		{Name: "removeExternalRepoFromTag", PyName: "remove_external_repo_from_tag", Args: tr,
			Doc: "Remove an external repo from a tag", Func: removeExternalRepoFromTag},
		{Name: "editTagExternalRepo", PyName: "edit_tag_external_repo",
			Args: []Arg{tr[0], tr[1], {Name: "priority", Default: None}, {Name: "merge_mode", Default: None}, {Name: "arches", Default: None}},
			Doc: "Edit a tag<->external repo association\n    This allows you to update the priority and merge_mode without removing/adding the repo.\n\n" +
				"    Note that None value of priority and merge_mode means no change on it\n    ",
			Func: editTagExternalRepo},
		{Name: "getTagExternalRepos", PyName: "get_tag_external_repos",
			Args: []Arg{{Name: "tag_info", Default: None}, {Name: "repo_info", Default: None}, {Name: "event", Default: None}},
			Doc:  getTagExternalReposDoc, Func: getTagExternalRepos},
		{Name: "getExternalRepoList", PyName: "get_external_repo_list",
			Args: []Arg{{Name: "tag_info"}, {Name: "event", Default: None}},
			Doc:  getExternalRepoListDoc, Func: getExternalRepoList},
	}
}

// The hub.conf switches upstream's mavenEnabled and winEnabled report
// (EnableMaven, EnableWin). This hub builds neither Maven nor Windows
// content, so KojiConfig offers neither option and both stay off: the
// calls that would need them fault instead (errNoMaven).
const enableMaven, enableWin = false, false

const getExternalRepoDoc = `
    Get information about a single external repository.

    :param info: a string (name) or an integer (id).
    :param bool strict: If True, raise an error if we found no matching
                        repository. If False, simply return None if we found
                        no matching repository. If unspecified, the default
                        value is False.
    :param int event: The event ID at which to search. If unspecified, the
                      default behavior is to search for the "active" repo
                      settings.
    :returns: a map containing the id, name, and url of the repository.
    `

const getTagExternalReposDoc = `
    Get a list of tag<->external repo associations.

    The list of associations is ordered by the priority field.

    Each map containing the following fields:
      tag_id
      tag_name
      external_repo_id
      external_repo_name
      url
      merge_mode
      priority

    :param tag_info: Tag name or ID number. This field is optional. If you
                     specify a value here, Koji will only return
                     repo association information for this single tag.
    :param repo_info: External repository name or ID number. This field is
                      optional. If you specify a value here, Koji will only
                      return tag association information for this single
                      repository.
    :param int event: The event ID at which to search. If unspecified, the
                      default behavior is to search for the "active" tag and
                      repo settings.
    `

const getExternalRepoListDoc = `
    Get an ordered list of all external repos associated with the tags in the
    hierarchy rooted at the specified tag.  External repos will be returned
    depth-first, and ordered by priority for each tag.  Duplicates will be
    removed.  Returns a list of maps containing the following fields:

    tag_id
    tag_name
    external_repo_id
    external_repo_name
    url
    merge_mode
    priority
    `

// repoMergeModes are koji.REPO_MERGE_MODES.
var repoMergeModes = map[string]bool{"koji": true, "simple": true, "bare": true}

// externalRepoFields are get_external_repos' columns, for queryOpts'
// order.
var externalRepoFields = []queryField{{Alias: "id", Column: "id"}, {Alias: "name", Column: "name"}, {Alias: "url", Column: "url"}}

func externalRepoData(r *store.ExternalRepo) map[string]any {
	return map[string]any{"id": r.ID, "name": r.Name, "url": r.URL}
}

func tagExternalRepoData(l *store.TagExternalRepo) map[string]any {
	return map[string]any{"external_repo_id": l.ExternalRepoID, "external_repo_name": l.ExternalRepoName,
		"priority": l.Priority, "tag_id": l.TagID, "tag_name": l.TagName, "url": l.URL, "merge_mode": l.MergeMode,
		"arches": ptrValue(l.Arches)}
}

// externalRepoKey is name_or_id_clause('external_repo', info): an id, a
// name, or a struct with either (Python's bool being an int).
func externalRepoKey(info any) (id *int64, name *string, err error) {
	if b, ok := info.(bool); ok {
		n := int64(boolInt(b))
		return &n, nil, nil
	}
	return tagKey(info)
}

// externalRepos is upstream's get_external_repos query: info (when not
// None) and a true url filter; event as eventCondition reads it.
func externalRepos(ctx context.Context, info, url, event any) ([]store.ExternalRepo, error) {
	var f store.ExternalRepoFilter
	var err error
	if f.AsOf, err = tagEvent(event); err != nil {
		return nil, err
	}
	if info != nil {
		if f.ID, f.Name, err = externalRepoKey(info); err != nil {
			return nil, err
		}
	}
	if xmlrpc.Truthy(url) {
		s, ok := url.(string)
		if !ok {
			// The database compares the text column with the value; only
			// a string can be equal to it.
			return []store.ExternalRepo{}, nil
		}
		f.URL = &s
	}
	return storeTx(ctx).ExternalRepos(ctx, f)
}

// listExternalRepos is upstream's get_external_repos (listExternalRepos).
func listExternalRepos(ctx context.Context, info, url, event any, queryOpts map[string]any) (any, error) {
	q, err := parseQueryOpts(queryOpts)
	if err != nil {
		return nil, err
	}
	repos, err := externalRepos(ctx, info, url, event)
	if err != nil {
		return nil, err
	}
	rows := make([]map[string]any, len(repos))
	for i := range repos {
		rows[i] = externalRepoData(&repos[i])
	}
	return queryRows(rows, q, externalRepoFields)
}

// getExternalRepo is upstream's get_external_repo: the one repo info
// names (None names all of them, which must then be one); nil when there
// is none, or with strict a GenericError.
func getExternalRepo(ctx context.Context, info any, strict bool, event any) (*store.ExternalRepo, error) {
	repos, err := externalRepos(ctx, info, nil, event)
	switch {
	case err != nil:
		return nil, err
	case len(repos) == 1:
		return &repos[0], nil
	case len(repos) > 1:
		return nil, fault(koji.ErrGeneric, "More than one repo in the result.")
	case strict:
		return nil, fault(koji.ErrGeneric, "No such repo: %s", pyFormat(info))
	}
	return nil, nil
}

// repoURL is the url argument with the trailing slash upstream ensures.
func repoURL(url any) (string, error) {
	s, ok := url.(string)
	if !ok {
		return "", pyException("AttributeError", "'%s' object has no attribute 'endswith'", pyTypeName(url))
	}
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s, nil
}

// createExternalRepo is upstream's create_external_repo (admin): the id
// of a deleted repo of the name is reused.
func createExternalRepo(ctx context.Context, name, url any) (map[string]any, error) {
	if err := assertPerm(ctx, "admin"); err != nil {
		return nil, err
	}
	n, err := verifyNameInternal(name)
	if err != nil {
		return nil, err
	}
	if existing, err := externalRepos(ctx, n, nil, nil); err != nil {
		return nil, err
	} else if len(existing) > 0 {
		return nil, fault(koji.ErrGeneric, "An external repo named \"%s\" already exists", n)
	}
	tx := storeTx(ctx)
	var id int64
	switch r, err := tx.LookupName(ctx, "external_repo", n); {
	case err == nil:
		id = r.ID
	case errors.Is(err, store.ErrNotFound):
		if id, err = tx.CreateExternalRepoName(ctx, n); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	u, err := repoURL(url)
	if err != nil {
		return nil, err
	}
	if err := tx.SetExternalRepoURL(ctx, id, u, callerID(ctx)); err != nil {
		return nil, err
	}
	return map[string]any{"id": id, "name": n, "url": u}, nil
}

// editExternalRepo is upstream's edit_external_repo (admin): a rename,
// which is not versioned, and a new URL, which is.
func editExternalRepo(ctx context.Context, info, name, url any) error {
	if err := assertPerm(ctx, "admin"); err != nil {
		return err
	}
	repo, err := getExternalRepo(ctx, info, true, nil)
	if err != nil {
		return err
	}
	tx := storeTx(ctx)
	if xmlrpc.Truthy(name) && name != repo.Name {
		n, err := verifyNameInternal(name)
		if err != nil {
			return err
		}
		switch other, err := tx.LookupName(ctx, "external_repo", n); {
		case err == nil:
			return fault(koji.ErrGeneric, "name \"%s\" is already taken by external repo %d", n, other.ID)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if err := tx.RenameExternalRepo(ctx, repo.ID, n); err != nil {
			return err
		}
	}
	if xmlrpc.Truthy(url) && url != repo.URL {
		u, err := repoURL(url)
		if err != nil {
			return err
		}
		return tx.SetExternalRepoURL(ctx, repo.ID, u, callerID(ctx))
	}
	return nil
}

// deleteExternalRepo is upstream's delete_external_repo (admin): the
// repo is removed from its tags, then its configuration revoked.
func deleteExternalRepo(ctx context.Context, info any) error {
	if err := assertPerm(ctx, "admin"); err != nil {
		return err
	}
	repo, err := getExternalRepo(ctx, info, true, nil)
	if err != nil {
		return err
	}
	tx := storeTx(ctx)
	links, err := tx.TagExternalRepos(ctx, store.TagExternalRepoFilter{ExternalRepoID: &repo.ID})
	if err != nil {
		return err
	}
	for _, l := range links {
		if err := removeExternalRepoFromTag(ctx, l.TagID, repo.ID); err != nil {
			return err
		}
	}
	_, err = tx.RevokeExternalRepoConfig(ctx, repo.ID, callerID(ctx))
	return err
}

// tagRepoArgs resolves tag_info and repo_info as the tag link calls do,
// both strictly and current.
func tagRepoArgs(ctx context.Context, tagInfo, repoInfo any) (*store.Tag, *store.ExternalRepo, error) {
	tag, err := strictTag(ctx, storeTx(ctx), tagInfo)
	if err != nil {
		return nil, nil, err
	}
	repo, err := getExternalRepo(ctx, repoInfo, true, nil)
	if err != nil {
		return nil, nil, err
	}
	return tag, repo, nil
}

// addExternalRepoToTag is upstream's add_external_repo_to_tag (the tag
// permission).
func addExternalRepoToTag(ctx context.Context, tagInfo, repoInfo, priority, mergeMode, arches any) error {
	if err := assertPerm(ctx, "tag"); err != nil {
		return err
	}
	if mergeMode == nil {
		mergeMode = "koji"
	}
	switch m := mergeMode.(type) {
	case []any, map[string]any:
		return pyException("TypeError", "unhashable type: '%s'", pyTypeName(m))
	case string:
		if !repoMergeModes[m] {
			return fault(koji.ErrGeneric, "No such merge mode: %s", m)
		}
	default:
		return fault(koji.ErrGeneric, "No such merge mode: %s", pyFormat(m))
	}
	tag, repo, err := tagRepoArgs(ctx, tagInfo, repoInfo)
	if err != nil {
		return err
	}
	var archList *string
	if arches != nil {
		if archList, err = tagArches(arches); err != nil {
			return err
		}
	}
	if priority == nil {
		return fault(koji.ErrParameter, "Invalid type, expected type <class 'int'>")
	}
	prio, err := convertInt(priority)
	if err != nil {
		return err
	}
	tx := storeTx(ctx)
	links, err := tx.TagExternalRepos(ctx, store.TagExternalRepoFilter{TagID: &tag.ID})
	if err != nil {
		return err
	}
	for _, l := range links {
		if l.ExternalRepoID == repo.ID {
			return fault(koji.ErrGeneric, "tag %s already associated with external repo %s", tag.Name, repo.Name)
		}
	}
	for _, l := range links {
		if l.Priority == prio {
			return fault(koji.ErrGeneric, "tag %s already associated with an external repo at priority %d", tag.Name, prio)
		}
	}
	return tx.AddTagExternalRepo(ctx, store.TagExternalRepo{TagID: tag.ID, ExternalRepoID: repo.ID, Priority: prio,
		MergeMode: mergeMode.(string), Arches: archList}, callerID(ctx))
}

// removeExternalRepoFromTag is upstream's remove_external_repo_from_tag
// (the tag permission).
func removeExternalRepoFromTag(ctx context.Context, tagInfo, repoInfo any) error {
	if err := assertPerm(ctx, "tag"); err != nil {
		return err
	}
	tag, repo, err := tagRepoArgs(ctx, tagInfo, repoInfo)
	if err != nil {
		return err
	}
	n, err := storeTx(ctx).RemoveTagExternalRepo(ctx, tag.ID, repo.ID, callerID(ctx))
	if err == nil && n == 0 {
		return fault(koji.ErrGeneric, "external repo %s not associated with tag %s", repo.Name, tag.Name)
	}
	return err
}

// editTagExternalRepo is upstream's edit_tag_external_repo (the tag
// permission): the link is removed and added again with the values that
// changed (None changes nothing); False when none did.
func editTagExternalRepo(ctx context.Context, tagInfo, repoInfo, priority, mergeMode, arches any) (bool, error) {
	if err := assertPerm(ctx, "tag"); err != nil {
		return false, err
	}
	tag, repo, err := tagRepoArgs(ctx, tagInfo, repoInfo)
	if err != nil {
		return false, err
	}
	links, err := storeTx(ctx).TagExternalRepos(ctx, store.TagExternalRepoFilter{TagID: &tag.ID, ExternalRepoID: &repo.ID})
	if err != nil {
		return false, err
	}
	if len(links) == 0 {
		return false, fault(koji.ErrGeneric, "external repo %s not associated with tag %s", repo.Name, tag.Name)
	}
	cur := links[0]
	if arches != nil {
		a, err := tagArches(arches)
		if err != nil {
			return false, err
		}
		arches = *a
	}
	values := []struct {
		given, current any
	}{{priority, cur.Priority}, {mergeMode, cur.MergeMode}, {arches, ptrValue(cur.Arches)}}
	changed := false
	for i, v := range values {
		if v.given != nil && !pyEqual(v.given, v.current) {
			changed = true
		} else {
			values[i].given = v.current
		}
	}
	if !changed {
		return false, nil
	}
	if err := removeExternalRepoFromTag(ctx, tag.ID, repo.ID); err != nil {
		return false, err
	}
	return true, addExternalRepoToTag(ctx, tag.ID, repo.ID, values[0].given, values[1].given, values[2].given)
}

// pyEqual is Python's == between an argument and a stored int, string or
// None: numbers (bools among them) by value.
func pyEqual(a, b any) bool {
	switch a.(type) {
	case nil, string:
		return a == b
	}
	return sameNumber(a, b)
}

// getTagExternalRepos is upstream's get_tag_external_repos: the links of
// a tag (a true tag_info) and of a repo (a true repo_info), both looked up
// strictly at the event.
func getTagExternalRepos(ctx context.Context, tagInfo, repoInfo, event any) ([]map[string]any, error) {
	var f store.TagExternalRepoFilter
	var err error
	if f.AsOf, err = tagEvent(event); err != nil {
		return nil, err
	}
	if xmlrpc.Truthy(tagInfo) {
		tag, err := getTag(ctx, tagInfo, true, event, false)
		if err != nil {
			return nil, err
		}
		id := tag["id"].(int64)
		f.TagID = &id
	}
	if xmlrpc.Truthy(repoInfo) {
		repo, err := getExternalRepo(ctx, repoInfo, true, event)
		if err != nil {
			return nil, err
		}
		f.ExternalRepoID = &repo.ID
	}
	links, err := storeTx(ctx).TagExternalRepos(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(links))
	for i := range links {
		out[i] = tagExternalRepoData(&links[i])
	}
	return out, nil
}

// getExternalRepoList is upstream's get_external_repo_list: the tag's
// links, then its ancestors' in inheritance order, each repo once.
func getExternalRepoList(ctx context.Context, tagInfo, event any) ([]map[string]any, error) {
	tag, err := getTag(ctx, tagInfo, true, event, false)
	if err != nil {
		return nil, err
	}
	asOf, err := tagEvent(event)
	if err != nil {
		return nil, err
	}
	tags, err := inheritedTags(ctx, tag["id"].(int64), asOf, true)
	if err != nil {
		return nil, err
	}
	tx := storeTx(ctx)
	seen := map[int64]bool{}
	out := []map[string]any{}
	for _, id := range tags {
		links, err := tx.TagExternalRepos(ctx, store.TagExternalRepoFilter{TagID: &id, AsOf: asOf})
		if err != nil {
			return nil, err
		}
		for i, l := range links {
			if !seen[l.ExternalRepoID] {
				seen[l.ExternalRepoID] = true
				out = append(out, tagExternalRepoData(&links[i]))
			}
		}
	}
	return out, nil
}
