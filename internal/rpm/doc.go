// Package rpm reads and writes RPM package files (format version 3 lead,
// header-style signature, as rpm 4.x writes them) without the rpm tools.
//
// Read parses the lead, the signature header and the main header into a
// Package (what Koji records of an rpm: NVRA, epoch, source RPM, sizes,
// dependencies, file list, payload hash and header range) and keeps every
// header entry in a Header. Malformed input gives ErrNotRPM or a
// *FormatError naming the file offset; sizes and counts in the file are
// checked against the header's actual length before anything is allocated.
//
// Not supported: verifying or creating signatures (GPG/RSA/DSA tags are
// read as plain entries, never checked), verifying any digest on read,
// RPM v6 packages, and header regions other than the single
// immutable region rpm writes (a region's trailer is read as a BIN entry).
package rpm
