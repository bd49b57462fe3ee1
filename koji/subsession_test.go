package koji

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A subsession client carries its calls on its own session, and its
// logout ends that session only.
func TestSubsessionClient(t *testing.T) {
	h := newFakeHub(t)
	c, _ := newLoggedIn(t, h)
	ctx := context.Background()
	sub, err := c.Subsession(ctx)
	require.NoError(t, err)
	var user map[string]any
	require.NoError(t, sub.Call(ctx, "getLoggedInUser", &user))
	subID, _ := sub.Session()
	main, _ := c.Session()
	assert.NotEqual(t, main.ID, subID.ID)
	assert.EqualValues(t, subID.ID, user["session"])
	require.NoError(t, sub.Logout(ctx))
	assert.False(t, sub.LoggedIn())
	require.NoError(t, c.Call(ctx, "getLoggedInUser", &user))
	assert.EqualValues(t, main.ID, user["session"], "the login session lives on")

	anon, err := NewClient(h.url())
	require.NoError(t, err)
	_, err = anon.Subsession(ctx)
	assert.ErrorIs(t, err, ErrAuth)
}
