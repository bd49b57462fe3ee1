package koji

import (
	"fmt"
	"strings"
)

// APIVersion is the hub API version this package speaks, as getAPIVersion
// reports it; the koji CLI warns when a hub reports another.
const APIVersion = 1

// BaseDir is the default top directory of Koji's file tree (BASEDIR): a
// profile's TopDir when it sets no topdir.
const BaseDir = "/mnt/koji"

// Task priorities. A lower number runs first. PriorityDefault is what the
// hub gives a task when the caller asks for nothing else. Build and the
// other task-creating calls take a priority relative to it: the hub adds
// the caller's number to PriorityDefault, and only admins may pass a
// negative one. PriorityBackground is what `koji build --background` passes.
const (
	PriorityDefault    = 20
	PriorityBackground = 5
)

// A BuildState is the state of a build (BUILD_STATES).
type BuildState int

// Build states.
const (
	BuildBuilding BuildState = iota // BUILDING
	BuildComplete                   // COMPLETE
	BuildDeleted                    // DELETED
	BuildFailed                     // FAILED
	BuildCanceled                   // CANCELED
)

var buildStateNames = []string{"BUILDING", "COMPLETE", "DELETED", "FAILED", "CANCELED"}

// String returns the upstream name, such as "COMPLETE".
func (s BuildState) String() string { return enumText("BuildState", int(s), buildStateNames) }

// ParseBuildState returns the build state of that name, in any case.
func ParseBuildState(name string) (BuildState, error) {
	n, err := enumParse("BuildState", name, buildStateNames)
	return BuildState(n), err
}

// A UserType is the kind of a Koji user account (USERTYPES).
type UserType int

// User types.
const (
	UserTypeNormal UserType = iota // NORMAL: a person or a service
	UserTypeHost                   // HOST: a builder's account
	UserTypeGroup                  // GROUP
)

var userTypeNames = []string{"NORMAL", "HOST", "GROUP"}

// String returns the upstream name, such as "HOST".
func (t UserType) String() string { return enumText("UserType", int(t), userTypeNames) }

// ParseUserType returns the user type of that name, in any case.
func ParseUserType(name string) (UserType, error) {
	n, err := enumParse("UserType", name, userTypeNames)
	return UserType(n), err
}

// A UserStatus says whether a user may log in (USER_STATUS).
type UserStatus int

// User statuses.
const (
	UserStatusNormal  UserStatus = iota // NORMAL
	UserStatusBlocked                   // BLOCKED
)

var userStatusNames = []string{"NORMAL", "BLOCKED"}

// String returns the upstream name, such as "BLOCKED".
func (s UserStatus) String() string { return enumText("UserStatus", int(s), userStatusNames) }

// ParseUserStatus returns the user status of that name, in any case.
func ParseUserStatus(name string) (UserStatus, error) {
	n, err := enumParse("UserStatus", name, userStatusNames)
	return UserStatus(n), err
}

// An AuthType is how a session logged in (AUTHTYPES).
type AuthType int

// Authentication types.
const (
	AuthPassword AuthType = iota // NORMAL: user name and password
	AuthKerberos                 // KERBEROS
	AuthSSL                      // SSL: a TLS client certificate
	AuthGSSAPI                   // GSSAPI
)

var authTypeNames = []string{"NORMAL", "KERBEROS", "SSL", "GSSAPI"}

// String returns the upstream name; AuthPassword is "NORMAL".
func (t AuthType) String() string { return enumText("AuthType", int(t), authTypeNames) }

// ParseAuthType returns the authentication type of that upstream name, in
// any case.
func ParseAuthType(name string) (AuthType, error) {
	n, err := enumParse("AuthType", name, authTypeNames)
	return AuthType(n), err
}

// A RepoState is the state of a build repository (REPO_STATES).
type RepoState int

// Repository states.
const (
	RepoInit    RepoState = iota // INIT
	RepoReady                    // READY
	RepoExpired                  // EXPIRED
	RepoDeleted                  // DELETED
	RepoProblem                  // PROBLEM
)

var repoStateNames = []string{"INIT", "READY", "EXPIRED", "DELETED", "PROBLEM"}

// String returns the upstream name, such as "READY".
func (s RepoState) String() string { return enumText("RepoState", int(s), repoStateNames) }

// ParseRepoState returns the repository state of that name, in any case.
func ParseRepoState(name string) (RepoState, error) {
	n, err := enumParse("RepoState", name, repoStateNames)
	return RepoState(n), err
}

// A ChecksumType is a digest algorithm for files (CHECKSUM_TYPES).
type ChecksumType int

// Checksum types.
const (
	ChecksumMD5    ChecksumType = iota // md5
	ChecksumSHA1                       // sha1
	ChecksumSHA256                     // sha256
)

var checksumTypeNames = []string{"md5", "sha1", "sha256"}

// String returns the upstream name, which is lower case: "sha256".
func (t ChecksumType) String() string { return enumText("ChecksumType", int(t), checksumTypeNames) }

// ParseChecksumType returns the checksum type of that name, in any case.
func ParseChecksumType(name string) (ChecksumType, error) {
	n, err := enumParse("ChecksumType", name, checksumTypeNames)
	return ChecksumType(n), err
}

// A BuildrootState is the state of a buildroot (BR_STATES).
type BuildrootState int

// Buildroot states.
const (
	BuildrootInit     BuildrootState = iota // INIT
	BuildrootWaiting                        // WAITING
	BuildrootBuilding                       // BUILDING
	BuildrootExpired                        // EXPIRED
)

var buildrootStateNames = []string{"INIT", "WAITING", "BUILDING", "EXPIRED"}

// String returns the upstream name, such as "WAITING".
func (s BuildrootState) String() string {
	return enumText("BuildrootState", int(s), buildrootStateNames)
}

// ParseBuildrootState returns the buildroot state of that name, in any case.
func ParseBuildrootState(name string) (BuildrootState, error) {
	n, err := enumParse("BuildrootState", name, buildrootStateNames)
	return BuildrootState(n), err
}

// A BuildrootType says where a buildroot came from (BR_TYPES).
type BuildrootType int

// Buildroot types.
const (
	BuildrootStandard BuildrootType = iota // STANDARD: made by a Koji builder
	BuildrootExternal                      // EXTERNAL: reported by a content generator
)

var buildrootTypeNames = []string{"STANDARD", "EXTERNAL"}

// String returns the upstream name, such as "EXTERNAL".
func (t BuildrootType) String() string { return enumText("BuildrootType", int(t), buildrootTypeNames) }

// ParseBuildrootType returns the buildroot type of that name, in any case.
func ParseBuildrootType(name string) (BuildrootType, error) {
	n, err := enumParse("BuildrootType", name, buildrootTypeNames)
	return BuildrootType(n), err
}

// A TagUpdateType says why a tag's content changed outside of normal
// tagging (TAG_UPDATE_TYPES).
type TagUpdateType int

// Tag update types.
const (
	TagUpdateVolumeChange   TagUpdateType = iota // VOLUME_CHANGE
	TagUpdateImport                              // IMPORT
	TagUpdateManual                              // MANUAL
	TagUpdateDraftPromotion                      // DRAFT_PROMOTION
)

var tagUpdateTypeNames = []string{"VOLUME_CHANGE", "IMPORT", "MANUAL", "DRAFT_PROMOTION"}

// String returns the upstream name, such as "DRAFT_PROMOTION".
func (t TagUpdateType) String() string { return enumText("TagUpdateType", int(t), tagUpdateTypeNames) }

// ParseTagUpdateType returns the tag update type of that name, in any case.
func ParseTagUpdateType(name string) (TagUpdateType, error) {
	n, err := enumParse("TagUpdateType", name, tagUpdateTypeNames)
	return TagUpdateType(n), err
}

// A RepoMergeMode says how a tag's external repositories are merged into
// its build repository (REPO_MERGE_MODES).
type RepoMergeMode string

// Repository merge modes.
const (
	RepoMergeKoji   RepoMergeMode = "koji"   // the first repository that has a package wins it
	RepoMergeSimple RepoMergeMode = "simple" // every package of every repository, blocked ones left out
	RepoMergeBare   RepoMergeMode = "bare"   // every package, unfiltered
)

// A DepType is the kind of an RPM dependency (DEP_*), as the hub's
// getRPMDeps reports it.
type DepType int

// Dependency types.
const (
	DepRequire    DepType = iota // DEP_REQUIRE
	DepProvide                   // DEP_PROVIDE
	DepObsolete                  // DEP_OBSOLETE
	DepConflict                  // DEP_CONFLICT
	DepSuggest                   // DEP_SUGGEST
	DepEnhance                   // DEP_ENHANCE
	DepSupplement                // DEP_SUPPLEMENT
	DepRecommend                 // DEP_RECOMMEND
)

// Dependency flags (RPMSENSE_*): the version comparison of a dependency's
// flags, combined, so that RPMSenseLess|RPMSenseEqual is "<=".
const (
	RPMSenseLess    = 2 // RPMSENSE_LESS
	RPMSenseGreater = 4 // RPMSENSE_GREATER
	RPMSenseEqual   = 8 // RPMSENSE_EQUAL
)

// An EnumError reports a name that is not one of an enumeration's values.
type EnumError struct {
	Enum string // the Go type, such as "BuildState"
	Name string
}

func (e *EnumError) Error() string { return fmt.Sprintf("koji: no %s named %q", e.Enum, e.Name) }

// enumText names value v of an enumeration, or gives the number, as
// "BuildState(9)", when the hub sends one this package does not know.
func enumText(enum string, v int, names []string) string {
	if v >= 0 && v < len(names) {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", enum, v)
}

func enumParse(enum, name string, names []string) (int, error) {
	for i, n := range names {
		if strings.EqualFold(n, name) {
			return i, nil
		}
	}
	return 0, &EnumError{Enum: enum, Name: name}
}
