package hubserver

import "context"

// NotificationRecipientsForTest is notificationRecipients for the build
// into the tag (0: none) in the state, in a transaction of TaskTx.
func (k *Koji) NotificationRecipientsForTest(ctx context.Context, buildID, tagID int64, state int) ([]string, error) {
	b, err := lookupBuild(ctx, storeTx(ctx), buildID, true)
	if err != nil {
		return nil, err
	}
	return k.notificationRecipients(ctx, b, tagID, state)
}
