package store

import (
	"context"
	"fmt"
)

// ListNamed is every row of an id-and-name table (as LookupName takes
// them), by id.
func (tx *Tx) ListNamed(ctx context.Context, table string) ([]NamedRow, error) {
	if !namedTables[table] {
		return nil, fmt.Errorf("store: ListNamed of table %q", table)
	}
	rows, err := tx.query(ctx, "SELECT id, name FROM "+table+" ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []NamedRow{}
	for rows.Next() {
		var r NamedRow
		if err := rows.Scan(&r.ID, &r.Name); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
