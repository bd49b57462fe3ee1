package store

import "context"

// RPMSig is a row of rpmsigs: a signature header stored for an RPM under
// its key ("" for none), with the MD5 of the header.
type RPMSig struct {
	RPMID   int64
	SigKey  string
	SigHash string
}

// AddRPMSig records a signature header of the RPM; a second one for the
// same key is an ErrConflict.
func (tx *Tx) AddRPMSig(ctx context.Context, s RPMSig) error {
	_, err := tx.exec(ctx, "INSERT INTO rpmsigs (rpm_id, sigkey, sighash) VALUES (?, ?, ?)", s.RPMID, s.SigKey, s.SigHash)
	return err
}

// QueryRPMSigs returns the signatures of the RPM and key (nil: any), in
// the order they were recorded.
func (tx *Tx) QueryRPMSigs(ctx context.Context, rpmID *int64, sigkey *string) ([]RPMSig, error) {
	q := "SELECT rpm_id, sigkey, sighash FROM rpmsigs"
	var conds []string
	var args []any
	if rpmID != nil {
		conds, args = append(conds, "rpm_id = ?"), append(args, *rpmID)
	}
	if sigkey != nil {
		conds, args = append(conds, "sigkey = ?"), append(args, *sigkey)
	}
	for i, c := range conds {
		if i == 0 {
			q += " WHERE " + c
		} else {
			q += " AND " + c
		}
	}
	rows, err := tx.query(ctx, q+" ORDER BY rpm_id, sigkey", args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*RPMSig, error) {
		var s RPMSig
		err := r.Scan(&s.RPMID, &s.SigKey, &s.SigHash)
		return &s, err
	})
}

// DeleteRPMSigs deletes the RPM's signatures of the key (nil: all of
// them) and the checksums of their signed copies.
func (tx *Tx) DeleteRPMSigs(ctx context.Context, rpmID int64, sigkey *string) error {
	for _, table := range []string{"rpmsigs", "rpm_checksum"} {
		q, args := "DELETE FROM "+table+" WHERE rpm_id = ?", []any{rpmID}
		if sigkey != nil {
			q, args = q+" AND sigkey = ?", append(args, *sigkey)
		}
		if _, err := tx.exec(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// RPMChecksum is a row of rpm_checksum.
type RPMChecksum struct {
	RPMID        int64
	SigKey       string
	Checksum     string
	ChecksumType int
}

// AddRPMChecksums records checksums of a signed copy, leaving those of a
// type already recorded for the RPM and key as they are.
func (tx *Tx) AddRPMChecksums(ctx context.Context, sums []RPMChecksum) error {
	for _, c := range sums {
		var n int64
		if err := tx.queryRow(ctx, "SELECT COUNT(*) FROM rpm_checksum WHERE rpm_id = ? AND sigkey = ? AND checksum_type = ?",
			c.RPMID, c.SigKey, c.ChecksumType).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		if _, err := tx.exec(ctx, "INSERT INTO rpm_checksum (rpm_id, sigkey, checksum, checksum_type) VALUES (?, ?, ?, ?)",
			c.RPMID, c.SigKey, c.Checksum, c.ChecksumType); err != nil {
			return err
		}
	}
	return nil
}

// RPMChecksums returns the checksums recorded for the RPM's signed copies.
func (tx *Tx) RPMChecksums(ctx context.Context, rpmID int64) ([]RPMChecksum, error) {
	rows, err := tx.query(ctx, "SELECT rpm_id, sigkey, checksum, checksum_type FROM rpm_checksum WHERE rpm_id = ? "+
		"ORDER BY sigkey, checksum_type", rpmID)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*RPMChecksum, error) {
		var c RPMChecksum
		err := r.Scan(&c.RPMID, &c.SigKey, &c.Checksum, &c.ChecksumType)
		return &c, err
	})
}
