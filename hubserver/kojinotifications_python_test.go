package hubserver_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
)

// notificationMembers are the columns of upstream's build_notifications
// queries, and their Python types (package_id and tag_id may be None).
var notificationMembers = map[string]string{"id": "int", "user_id": "int", "package_id": "int", "tag_id": "int",
	"success_only": "bool", "email": "str"}

var notificationBlockMembers = map[string]string{"id": "int", "user_id": "int", "package_id": "int", "tag_id": "int"}

func pyFault(t *testing.T, a pyAnswer, code koji.FaultClass, msg string) {
	t.Helper()
	require.NotNil(t, a.Fault, "expected a fault, got %v", a.Result)
	assert.Equal(t, []any{float64(code), msg}, a.Fault)
}

func pyOK(t *testing.T, a pyAnswer) any {
	t.Helper()
	require.Nil(t, a.Fault)
	return a.Result
}

// TestKojiNotificationsPython drives the koji CLI's notification calls
// (list-notifications, add-notification, edit-notification,
// remove-notification, block-notification, unblock-notification) with
// Python's xmlrpc.client, as kojiadmin and as bob: the members and
// Python types of kojihub.py's queries, the owner-or-admin rules and
// every error upstream raises, with its class and message.
func TestKojiNotificationsPython(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) {
			c.AdminPassword = "secret"
			c.Notifications.EmailDomain = "example.com"
		})
		admin := kh.sslClient(t, "")
		require.NoError(t, admin.Call(ctx, "createUser", nil, "bob"))
		require.NoError(t, kh.koji.SetPassword(ctx, "bob", "bob-secret"))
		_, err := admin.CreateTag(ctx, "dest", nil)
		require.NoError(t, err)
		require.NoError(t, admin.Call(ctx, "createEmptyBuild", nil, "foo", "1", "1", nil))

		none := map[string]any(nil)
		out := runPySession(t, kh, []pyCall{
			/* 0 */ pycall("createNotification", []any{nil, "foo", "dest", true}, none),
			/* 1 */ pycall("createNotification", []any{"bob", nil, nil, false}, none),
			/* 2 */ pycall("getBuildNotifications", []any{}, none),
			/* 3 */ pycall("getBuildNotifications", []any{"bob"}, none),
			/* 4 */ pycall("getBuildNotification", []any{1}, none),
			/* 5 */ pycall("getBuildNotification", []any{99}, none),
			/* 6 */ pycall("getBuildNotification", []any{99}, map[string]any{"strict": true}),
			/* 7 */ pycall("createNotification", []any{nil, 1, 1, 1}, none),
			/* 8 */ pycall("createNotification", []any{"nobody", nil, nil, false}, none),
			/* 9 */ pycall("createNotification", []any{nil, "nopkg", nil, false}, none),
			/* 10 */ pycall("createNotification", []any{nil, nil, "notag", false}, none),
			/* 11 */ pycall("updateNotification", []any{1, nil, "dest", false}, none),
			/* 12 */ pycall("getBuildNotification", []any{1}, none),
			/* 13 */ pycall("updateNotification", []any{1, nil, 1, 0}, none),
			/* 14 */ pycall("updateNotification", []any{99, nil, nil, false}, none),
			/* 15 */ pycall("deleteNotification", []any{2}, none),
			/* 16 */ pycall("getBuildNotifications", []any{2}, none),
			/* 17 */ pycall("deleteNotification", []any{2}, none),
			/* 18 */ pycall("getBuildNotification", []any{"1"}, none),
			/* 19 */ pycall("createNotificationBlock", []any{nil, "foo"}, none),
			/* 20 */ pycall("createNotificationBlock", []any{"bob"}, map[string]any{"tag_id": "dest"}),
			/* 21 */ pycall("getBuildNotificationBlocks", []any{}, none),
			/* 22 */ pycall("getBuildNotificationBlock", []any{2}, none),
			/* 23 */ pycall("getBuildNotificationBlock", []any{99}, none),
			/* 24 */ pycall("getBuildNotificationBlock", []any{99, true}, none),
			/* 25 */ pycall("createNotificationBlock", []any{1, 1}, none),
			/* 26 */ pycall("createNotificationBlock", []any{"nobody"}, none),
			/* 27 */ pycall("deleteNotificationBlock", []any{1}, none),
			/* 28 */ pycall("deleteNotificationBlock", []any{1}, none),
			/* 29 */ pycall("getBuildNotificationBlocks", []any{"bob"}, none),
			/* 30 */ pycall("getBuildNotifications", []any{"nobody"}, none),
			/* 31 */ pycall("createNotification", []any{[]any{1}, nil, nil, false}, none),
		})
		assert.Nil(t, pyOK(t, out[0]))
		assert.Nil(t, pyOK(t, out[1]))
		mine := map[string]any{"id": float64(1), "user_id": float64(1), "package_id": float64(1), "tag_id": float64(1),
			"success_only": true, "email": "kojiadmin@example.com"}
		assert.Equal(t, []any{mine}, pyOK(t, out[2]))
		sameShape(t, listOf(dictOf(keysOf(mine), notificationMembers)), out[2].Types, "getBuildNotifications")
		bobs := map[string]any{"id": float64(2), "user_id": float64(2), "package_id": nil, "tag_id": nil,
			"success_only": false, "email": "bob@example.com"}
		assert.Equal(t, []any{bobs}, pyOK(t, out[3]))
		assert.Equal(t, mine, pyOK(t, out[4]))
		sameShape(t, dictOf(keysOf(mine), notificationMembers), out[4].Types, "getBuildNotification")
		assert.Nil(t, pyOK(t, out[5]))
		pyFault(t, out[6], koji.ErrGeneric, "No notification with ID 99 found")
		pyFault(t, out[7], koji.ErrGeneric, "notification already exists")
		pyFault(t, out[8], koji.ErrGeneric, "No such user ID: nobody")
		pyFault(t, out[9], koji.ErrGeneric, "No such entry in table package: nopkg")
		pyFault(t, out[10], koji.ErrGeneric, "No such entry in table tag: notag")
		assert.Nil(t, pyOK(t, out[11]))
		mine["package_id"], mine["success_only"] = nil, false
		assert.Equal(t, mine, pyOK(t, out[12]))
		pyFault(t, out[13], koji.ErrGeneric, "notification already exists")
		pyFault(t, out[14], koji.ErrGeneric, "No notification with ID 99 found")
		assert.Nil(t, pyOK(t, out[15]))
		assert.Equal(t, []any{}, pyOK(t, out[16]))
		pyFault(t, out[17], koji.ErrGeneric, "No notification with ID 2 found")
		pyFault(t, out[18], 1, "<class 'TypeError'>: %i format: a real number is required, not str")
		assert.Nil(t, pyOK(t, out[19]))
		assert.Nil(t, pyOK(t, out[20]))
		block := map[string]any{"id": float64(1), "user_id": float64(1), "package_id": float64(1), "tag_id": nil}
		assert.Equal(t, []any{block}, pyOK(t, out[21]))
		sameShape(t, listOf(dictOf(keysOf(block), notificationBlockMembers)), out[21].Types, "getBuildNotificationBlocks")
		bobBlock := map[string]any{"id": float64(2), "user_id": float64(2), "package_id": nil, "tag_id": float64(1)}
		assert.Equal(t, bobBlock, pyOK(t, out[22]))
		sameShape(t, dictOf(keysOf(bobBlock), notificationBlockMembers), out[22].Types, "getBuildNotificationBlock")
		assert.Nil(t, pyOK(t, out[23]))
		pyFault(t, out[24], koji.ErrGeneric, "No notification block with ID 99 found")
		pyFault(t, out[25], koji.ErrGeneric, "notification already exists")
		pyFault(t, out[26], koji.ErrGeneric, "No such user ID: nobody")
		assert.Nil(t, pyOK(t, out[27]))
		pyFault(t, out[28], koji.ErrGeneric, "No notification block with ID 1 found")
		assert.Equal(t, []any{bobBlock}, pyOK(t, out[29]))
		pyFault(t, out[30], koji.ErrGeneric, "No such user: 'nobody'")
		pyFault(t, out[31], koji.ErrGeneric, "Invalid type for userInfo: <class 'list'>")

		// bob may change only his own; kojiadmin's (notification 1, block
		// 3) are refused with upstream's messages.
		require.NoError(t, admin.Call(ctx, "createNotificationBlock", nil, nil, nil, "dest"))
		out = runPySessionAs(t, kh, "bob", "bob-secret", []pyCall{
			/* 0 */ pycall("createNotification", []any{nil, "foo", nil, true}, none),
			/* 1 */ pycall("createNotification", []any{"kojiadmin", "foo", nil, true}, none),
			/* 2 */ pycall("updateNotification", []any{1, nil, nil, true}, none),
			/* 3 */ pycall("deleteNotification", []any{1}, none),
			/* 4 */ pycall("createNotificationBlock", []any{"kojiadmin"}, none),
			/* 5 */ pycall("deleteNotificationBlock", []any{3}, none),
			/* 6 */ pycall("getBuildNotifications", []any{}, none),
			/* 7 */ pycall("updateNotification", []any{3, "foo", "dest", true}, none),
			/* 8 */ pycall("getBuildNotification", []any{3}, none),
			/* 9 */ pycall("deleteNotificationBlock", []any{2}, none),
			/* 10 */ pycall("deleteNotification", []any{3}, none),
			/* 11 */ pycall("getBuildNotifications", []any{"kojiadmin"}, none),
		})
		assert.Nil(t, pyOK(t, out[0]))
		pyFault(t, out[1], koji.ErrGeneric, "user bob cannot create notifications for user kojiadmin")
		pyFault(t, out[2], koji.ErrGeneric, "user 2 cannot update notifications for user 1")
		pyFault(t, out[3], koji.ErrGeneric, "user 2 cannot delete notifications for user 1")
		pyFault(t, out[4], koji.ErrGeneric, "user bob cannot create notification blocks for user kojiadmin")
		pyFault(t, out[5], koji.ErrGeneric, "user 2 cannot delete notification blocks for user 1")
		assert.Equal(t, []any{map[string]any{"id": float64(3), "user_id": float64(2), "package_id": float64(1), "tag_id": nil,
			"success_only": true, "email": "bob@example.com"}}, pyOK(t, out[6]))
		assert.Nil(t, pyOK(t, out[7]))
		assert.Equal(t, map[string]any{"id": float64(3), "user_id": float64(2), "package_id": float64(1), "tag_id": float64(1),
			"success_only": true, "email": "bob@example.com"}, pyOK(t, out[8]))
		assert.Nil(t, pyOK(t, out[9]))
		assert.Nil(t, pyOK(t, out[10]))
		assert.Len(t, pyOK(t, out[11]), 1, "kojiadmin's notification is still there")

		// Anonymous: the lookups by id come before the login check.
		anon := kh.client(t)
		assert.Equal(t, "Not logged-in", faultString(t, anon, koji.ErrGeneric, "createNotification", []any{nil, nil, nil, false}, nil))
		assert.Equal(t, "Not logged-in", faultString(t, anon, koji.ErrGeneric, "createNotificationBlock", []any{"bob"}, nil))
		assert.Equal(t, "Not logged-in", faultString(t, anon, koji.ErrGeneric, "updateNotification", []any{99, nil, nil, false}, nil))
		assert.Equal(t, "No notification with ID 99 found", faultString(t, anon, koji.ErrGeneric, "deleteNotification", []any{99}, nil))
		assert.Equal(t, "Not logged-in", faultString(t, anon, koji.ErrGeneric, "deleteNotification", []any{1}, nil))
		assert.Equal(t, "No notification block with ID 99 found",
			faultString(t, anon, koji.ErrGeneric, "deleteNotificationBlock", []any{99}, nil))
		assert.Equal(t, "Not logged-in", faultString(t, anon, koji.ErrGeneric, "deleteNotificationBlock", []any{3}, nil))
		assert.Equal(t, "No user provided", faultString(t, anon, koji.ErrGeneric, "getBuildNotifications", nil, nil))
		assert.Equal(t, "No user provided", faultString(t, anon, koji.ErrGeneric, "getBuildNotificationBlocks", nil, nil))
		assert.Len(t, call(t, anon, "getBuildNotifications", []any{"kojiadmin"}, nil), 1)
		assert.Len(t, call(t, anon, "getBuildNotificationBlocks", []any{1}, nil), 1)

		assertUpstreamSignatures(t, "getBuildNotifications", "getBuildNotification", "createNotification",
			"updateNotification", "deleteNotification", "getBuildNotificationBlocks", "getBuildNotificationBlock",
			"createNotificationBlock", "deleteNotificationBlock")
	})
}
