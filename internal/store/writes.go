package store

import "strings"

// Writes returns how many INSERT, UPDATE and DELETE statements the
// transaction has run so far, whether or not they changed rows and
// including those later rolled back to a savepoint: what upstream's
// context.commit_pending records. The hub compares two readings to learn
// whether a call wrote, which decides whether the call's callnum is kept.
func (tx *Tx) Writes() int64 { return tx.writes }

// count notes a statement about to run if it is one Writes counts, and
// reports whether it may run: a Tx of [DB.BeginStatements] refuses writes.
func (tx *Tx) count(query string) bool {
	if isDML(query) {
		tx.writes++
		return tx.conn == nil
	}
	return true
}

// isDML reports whether a statement writes rows: it starts with INSERT,
// UPDATE or DELETE, or is a WITH query containing one of them. SELECT …
// FOR UPDATE only locks, and does not count, as upstream's row-locking
// queries do not set commit_pending.
func isDML(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	if len(q) < 6 {
		return false
	}
	switch strings.ToUpper(q[:6]) {
	case "INSERT", "UPDATE", "DELETE":
		return true
	}
	if strings.EqualFold(q[:4], "WITH") {
		u := strings.ReplaceAll(strings.ToUpper(q), "FOR UPDATE", "")
		return strings.Contains(u, "INSERT ") || strings.Contains(u, "UPDATE ") || strings.Contains(u, "DELETE ")
	}
	return false
}
