package koji

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// enumCase is one enumeration: its names in value order, its String and
// its parser, both on int.
type enumCase struct {
	names []string
	str   func(int) string
	parse func(string) (int, error)
}

func TestEnumsRoundTrip(t *testing.T) {
	enums := map[string]enumCase{
		"BuildState": {[]string{"BUILDING", "COMPLETE", "DELETED", "FAILED", "CANCELED"},
			func(v int) string { return BuildState(v).String() },
			func(s string) (int, error) { v, err := ParseBuildState(s); return int(v), err }},
		"UserType": {[]string{"NORMAL", "HOST", "GROUP"},
			func(v int) string { return UserType(v).String() },
			func(s string) (int, error) { v, err := ParseUserType(s); return int(v), err }},
		"UserStatus": {[]string{"NORMAL", "BLOCKED"},
			func(v int) string { return UserStatus(v).String() },
			func(s string) (int, error) { v, err := ParseUserStatus(s); return int(v), err }},
		"AuthType": {[]string{"NORMAL", "KERBEROS", "SSL", "GSSAPI"},
			func(v int) string { return AuthType(v).String() },
			func(s string) (int, error) { v, err := ParseAuthType(s); return int(v), err }},
		"RepoState": {[]string{"INIT", "READY", "EXPIRED", "DELETED", "PROBLEM"},
			func(v int) string { return RepoState(v).String() },
			func(s string) (int, error) { v, err := ParseRepoState(s); return int(v), err }},
		"ChecksumType": {[]string{"md5", "sha1", "sha256"},
			func(v int) string { return ChecksumType(v).String() },
			func(s string) (int, error) { v, err := ParseChecksumType(s); return int(v), err }},
		"BuildrootState": {[]string{"INIT", "WAITING", "BUILDING", "EXPIRED"},
			func(v int) string { return BuildrootState(v).String() },
			func(s string) (int, error) { v, err := ParseBuildrootState(s); return int(v), err }},
		"BuildrootType": {[]string{"STANDARD", "EXTERNAL"},
			func(v int) string { return BuildrootType(v).String() },
			func(s string) (int, error) { v, err := ParseBuildrootType(s); return int(v), err }},
		"TagUpdateType": {[]string{"VOLUME_CHANGE", "IMPORT", "MANUAL", "DRAFT_PROMOTION"},
			func(v int) string { return TagUpdateType(v).String() },
			func(s string) (int, error) { v, err := ParseTagUpdateType(s); return int(v), err }},
	}
	for enum, tc := range enums {
		for v, name := range tc.names {
			assert.Equal(t, name, tc.str(v), "%s(%d)", enum, v)
			got, err := tc.parse(name)
			require.NoError(t, err)
			assert.Equal(t, v, got, name)
		}
		assert.Equal(t, enum+"(9)", tc.str(9), "a value this package does not know")
		assert.Equal(t, enum+"(-1)", tc.str(-1))
		_, err := tc.parse("NO_SUCH_NAME")
		var ee *EnumError
		require.ErrorAs(t, err, &ee)
		assert.Equal(t, &EnumError{Enum: enum, Name: "NO_SUCH_NAME"}, ee)
	}
}

func TestEnumValuesMatchUpstream(t *testing.T) {
	assert.Equal(t, 1, int(BuildComplete))
	assert.Equal(t, 3, int(BuildFailed))
	assert.Equal(t, 4, int(BuildCanceled))
	assert.Equal(t, 2, int(UserTypeGroup))
	assert.Equal(t, 2, int(AuthSSL))
	assert.Equal(t, 4, int(RepoProblem))
	assert.Equal(t, 2, int(ChecksumSHA256))
	assert.Equal(t, 3, int(BuildrootExpired))
	assert.Equal(t, 3, int(TagUpdateDraftPromotion))
	assert.Equal(t, 20, PriorityDefault)
	assert.Equal(t, 5, PriorityBackground)
	assert.Equal(t, 1, APIVersion)
	assert.Equal(t, []RepoMergeMode{"koji", "simple", "bare"}, []RepoMergeMode{RepoMergeKoji, RepoMergeSimple, RepoMergeBare})
	assert.Equal(t, "/mnt/koji", BaseDir)
	assert.Equal(t, []DepType{0, 1, 2, 3, 4, 5, 6, 7}, []DepType{DepRequire, DepProvide, DepObsolete, DepConflict,
		DepSuggest, DepEnhance, DepSupplement, DepRecommend})
	assert.Equal(t, []int{2, 4, 8}, []int{RPMSenseLess, RPMSenseGreater, RPMSenseEqual})
}

func TestParseEnumIgnoresCase(t *testing.T) {
	s, err := ParseBuildState("complete")
	require.NoError(t, err)
	assert.Equal(t, BuildComplete, s)
	c, err := ParseChecksumType("SHA256")
	require.NoError(t, err)
	assert.Equal(t, ChecksumSHA256, c)
	a, err := ParseAuthType("normal")
	require.NoError(t, err)
	assert.Equal(t, AuthPassword, a, "upstream calls a password login NORMAL")
	_, err = ParseBuildState("")
	assert.EqualError(t, err, `koji: no BuildState named ""`)
}
