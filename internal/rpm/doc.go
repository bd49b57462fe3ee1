// Package rpm reads and writes RPM package files (the version 3 lead with
// a header-style signature, as rpm 4.x writes them) without the rpm tools.
//
// Read parses the lead, the signature header and the main header into a
// Package (what Koji records of an rpm: NVRA, epoch, source RPM, sizes,
// dependencies, file list, payload hash and header range) and keeps every
// header entry in a Header. ReadPayload also walks the payload's files,
// for payloads that are gzip-compressed newc cpio archives; xz, zstd,
// bzip2 and other compressors give ErrUnsupportedPayload. Malformed input
// gives ErrNotRPM or a *FormatError naming the file offset; sizes and
// counts in the file are checked against the data actually there before
// anything is allocated for them.
//
// Write builds a package from a Spec: a binary RPM or an SRPM that rpm
// 4.18 accepts (rpm -K, rpm -i, rpmbuild --rebuild, createrepo_c), with
// a gzip newc payload, SHA-256 file digests, the SHA-256 payload digest,
// and a signature header holding the SHA-256 and SHA-1 header digests,
// the MD5 of header and payload (SIGMD5) and the size tags.
//
// Not supported: creating or checking signatures (GPG, RSA and DSA tags
// are read as plain entries), verifying any digest when reading, packages
// or files over 4 GiB (rpm's large-file payload format), and, in Write,
// hard links, device files, %config/%doc/%ghost file flags, scripts,
// triggers and changelogs.
package rpm
