package koji

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoggedInUser(t *testing.T) {
	fixtures := []string{"getLoggedInUser", "getLoggedInUser_anon", "getLoggedInUser_password", "getLoggedInUser_proxied"}

	c, hub := replayClient(t, 11, fixtures...)
	u, err := c.LoggedInUser(context.Background())
	require.NoError(t, err)
	assert.Equal(t, &User{ID: 1, Name: "kojiadmin", Status: UserStatusNormal, Type: UserTypeNormal,
		KrbPrincipals: []string{}, AuthType: apiPtr(AuthSSL)}, u)
	assertSentAsRecorded(t, hub, 0, "getLoggedInUser")

	c, hub = replayClient(t, 0, fixtures...)
	u, err = c.LoggedInUser(context.Background())
	require.NoError(t, err)
	assert.Nil(t, u, "anonymous")
	assertSentAsRecorded(t, hub, 0, "getLoggedInUser_anon")

	c, _ = replayClient(t, 15, fixtures...)
	u, err = c.LoggedInUser(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "testuser", u.Name)
	assert.Equal(t, AuthPassword, *u.AuthType)

	c, _ = replayClient(t, 14, fixtures...)
	u, err = c.LoggedInUser(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "testuser", u.Name, "kojiweb's session for the proxied user")
	assert.Equal(t, AuthSSL, *u.AuthType)
}

func TestGetUser(t *testing.T) {
	c, hub := replayClient(t, 11, "getUser", "getUser_kwargs", "getUser_nonexistent", "getUser_nonexistent_strict")
	ctx := context.Background()
	want := &User{ID: 1, Name: "kojiadmin", KrbPrincipals: []string{}}

	u, err := c.GetUser(ctx, "kojiadmin", nil)
	require.NoError(t, err)
	assert.Equal(t, want, u)
	assertSentAsRecorded(t, hub, 0, "getUser")
	assert.Nil(t, u.AuthType, "getUser sends no authtype")

	u, err = c.GetUser(ctx, "kojiadmin", &GetUserOptions{Strict: true, KrbPrincs: apiPtr(true)})
	require.NoError(t, err)
	assert.Equal(t, want, u)
	assertSentAsRecorded(t, hub, 1, "getUser_kwargs")

	u, err = c.GetUser(ctx, "nobody-here", nil)
	require.NoError(t, err)
	assert.Nil(t, u)
	assertSentAsRecorded(t, hub, 2, "getUser_nonexistent")

	_, err = c.GetUser(ctx, "nobody-here", &GetUserOptions{Strict: true})
	assert.ErrorIs(t, err, ErrGeneric)
	assert.ErrorContains(t, err, "No such user: 'nobody-here'")
	assertSentAsRecorded(t, hub, 3, "getUser_nonexistent_strict")
}

func TestGetUserGroups(t *testing.T) {
	c, hub := newStubHub(t, func(stubCall) (any, error) {
		return map[string]any{"id": 2, "name": "testuser", "status": 1, "usertype": 0,
			"krb_principals": []string{"testuser@EXAMPLE.ORG"}, "groups": []string{"packagers"}}, nil
	})
	u, err := c.GetUser(context.Background(), 2, &GetUserOptions{KrbPrincs: apiPtr(false), Groups: true})
	require.NoError(t, err)
	assert.Equal(t, stubCall{Method: "getUser", Args: []any{int64(2)},
		Kwargs: map[string]any{"krb_princs": false, "groups": true}}, hub.only(t))
	assert.Equal(t, []string{"packagers"}, u.Groups)
	assert.Equal(t, UserStatusBlocked, u.Status)
	assert.Equal(t, "https://koji.example.org/koji/userinfo?userID=2", u.URL("https://koji.example.org/koji"))
}

func TestListUsers(t *testing.T) {
	c, hub := replayClient(t, 11, "listUsers")
	users, err := c.ListUsers(context.Background(), nil)
	require.NoError(t, err)
	assertSentAsRecorded(t, hub, 0, "listUsers")
	var names []string
	for _, u := range users {
		names = append(names, u.Name)
	}
	assert.Equal(t, []string{"kojiadmin", "testuser", "kojira"}, names)
}

func TestListUsersOptionsOnTheWire(t *testing.T) {
	c, hub := newStubHub(t, func(stubCall) (any, error) { return []any{}, nil })
	ctx := context.Background()
	_, err := c.ListUsers(ctx, &ListUsersOptions{Types: []UserType{UserTypeHost}, Prefix: "build",
		QueryOpts: &QueryOpts{Order: "name"}})
	require.NoError(t, err)
	_, err = c.ListUsers(ctx, &ListUsersOptions{Types: []UserType{UserTypeNormal, UserTypeGroup}, Perm: "admin", InheritedPerm: true})
	require.NoError(t, err)
	_, err = c.ListUsers(ctx, &ListUsersOptions{Types: []UserType{UserTypeNormal}})
	require.NoError(t, err)
	assert.Equal(t, []stubCall{
		{Method: "listUsers", Kwargs: map[string]any{"userType": int64(1), "prefix": "build", "queryOpts": map[string]any{"order": "name"}}},
		{Method: "listUsers", Kwargs: map[string]any{"userType": []any{int64(0), int64(2)}, "perm": "admin", "inherited_perm": true}},
		{Method: "listUsers", Kwargs: map[string]any{"userType": int64(0)}},
	}, hub.received(), "one type goes as an int, as every hub takes it; several as a list")
}

func TestPerms(t *testing.T) {
	c, hub := replayClient(t, 11, "getPerms", "getAllPerms")
	perms, err := c.Perms(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"admin"}, perms)
	assertSentAsRecorded(t, hub, 0, "getPerms")

	all, err := c.AllPerms(context.Background())
	require.NoError(t, err)
	assertSentAsRecorded(t, hub, 1, "getAllPerms")
	require.Len(t, all, 15)
	assert.Equal(t, &Permission{ID: 1, Name: "admin", Description: "Full administrator access. Perform all actions."}, all[0])
	assert.Equal(t, "draft-promoter", all[14].Name)
}

func TestListUsersIterPages(t *testing.T) {
	c, hub := pagingHub(t, 3000, "id", map[string]any{"name": "u", "status": 0, "usertype": 1})
	var ids []int
	for u, err := range c.ListUsersIter(context.Background(), &ListUsersOptions{Types: []UserType{UserTypeHost}}) {
		require.NoError(t, err)
		ids = append(ids, u.ID)
		if len(ids) == 3000 {
			assert.Equal(t, UserTypeHost, u.Type)
		}
	}
	assertPaged(t, hub, ids, 3000, "id", map[string]any{"userType": int64(1)})
}
