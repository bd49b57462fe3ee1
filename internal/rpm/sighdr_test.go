package rpm

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestRipSigHeader(t *testing.T) {
	for _, name := range testdataRPMs {
		path := filepath.Join("testdata", name)
		p, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := RipSigHeader(path)
		if err != nil {
			t.Fatal(err)
		}
		// the signature header with its padding ends where the main one starts
		if int64(leadLen+len(sig)) != p.HeaderStart || len(sig)%8 != 0 {
			t.Errorf("%s: %d bytes of signature header, main header at %d", name, len(sig), p.HeaderStart)
		}
		raw, err := ParseRawHeader(sig)
		if err != nil {
			t.Fatal(err)
		}
		md5v, err := raw.Get(SigTagMD5)
		if err != nil || !bytes.Equal(md5v.([]byte), p.SigMD5) {
			t.Errorf("%s: MD5 %x, %v; want %x", name, md5v, err, p.SigMD5)
		}
		if v, err := raw.Get(SigTagSize); err != nil || v.(int64) == 0 {
			t.Errorf("%s: SIZE %v, %v", name, v, err)
		}
		if v, err := raw.Get(SigTagSHA256); err != nil || len(v.([]byte)) != 64 {
			t.Errorf("%s: SHA256 %q, %v", name, v, err)
		}
		if v, err := raw.Get(1005); v != nil || err != nil {
			t.Errorf("%s: GPG %v, %v", name, v, err)
		}
		// splicing the package's own header in gives the package back
		var out bytes.Buffer
		if err := SpliceSigHeader(sig, path, &out); err != nil {
			t.Fatal(err)
		}
		orig, _ := os.ReadFile(path)
		if !bytes.Equal(out.Bytes(), orig) {
			t.Errorf("%s: splice of its own signature header differs", name)
		}
	}
	var magic *BadMagicError
	if _, err := ParseRawHeader([]byte("junk")); !errors.As(err, &magic) || string(magic.Got) != "jun" {
		t.Errorf("junk: %v", err)
	}
}

// A version 4 RSA signature packet as rpmsign writes it (old-format
// header), its issuer key ID 0x6c446c578825c38b in the unhashed
// subpackets, and version 3 one.
func TestSigPacketKeyID(t *testing.T) {
	v4 := "890133" + "04000108" + "001d" + "162104" + "62656f0df7809d57a5c659856c446c578825c38b" + "0502" + "12345678" +
		"000a" + "09106c446c578825c38b" + "abcd"
	pkt, _ := hex.DecodeString(v4)
	pkt[2] = byte(len(pkt) - 3)
	pkt[1] = 0
	if id, err := SigPacketKeyID(pkt); err != nil || id != "8825c38b" {
		t.Errorf("v4: %q, %v", id, err)
	}
	v3, _ := hex.DecodeString("8813" + "03" + "05" + "00" + "12345678" + "1122334455667788" + "01" + "08" + "abcd")
	if id, err := SigPacketKeyID(v3); err != nil || id != "55667788" {
		t.Errorf("v3: %q, %v", id, err)
	}
	for _, tc := range []struct {
		pkt  string
		want string
	}{
		{"00", "ValueError: Not an OpenPGP packet"},
		{"8802ab", "ValueError: Invalid OpenPGP packet length"},
		{"b4020500", "ValueError: Not a signature packet"},
		{"880105", "NotImplementedError: Unknown PGP signature packet version 5"},
		{"c2ff", "struct.error: unpack requires a buffer of 4 bytes"},
		{"", "IndexError: index out of range"},
	} {
		pkt, _ := hex.DecodeString(tc.pkt)
		if _, err := SigPacketKeyID(pkt); err == nil || err.Error() != tc.want {
			t.Errorf("%s: %v, want %s", tc.pkt, err, tc.want)
		}
	}
}

// FuzzSigHeader reads the signature header entries and key IDs of any
// bytes without panicking, with Python's exceptions as the only errors.
func FuzzSigHeader(f *testing.F) {
	for _, name := range testdataRPMs {
		sig, err := RipSigHeader(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(sig)
	}
	pkt, _ := hex.DecodeString("8813030500123456781122334455667788010" + "8abcd")
	f.Add(pkt)
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := SigPacketKeyID(data); err != nil {
			var py *PyError
			if !errors.As(err, &py) {
				t.Fatalf("key ID: %T %v", err, err)
			}
		}
		raw, err := ParseRawHeader(data)
		if err != nil {
			return
		}
		for tag := range raw.index {
			v, err := raw.Get(tag)
			var typ *UnreadableTypeError
			if err != nil && !errors.As(err, &typ) {
				t.Fatalf("tag %d: %v", tag, err)
			}
			if b, ok := v.([]byte); ok && len(b) > len(data) {
				t.Fatalf("tag %d: %d bytes from %d", tag, len(b), len(data))
			}
		}
	})
}
