package xmlrpc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// tagKind tells a start tag from an end tag and a self-closing one.
type tagKind uint8

const (
	tagStart tagKind = iota + 1 // <name>
	tagEnd                      // </name>
	tagEmpty                    // <name/>
)

func (k tagKind) String() string {
	switch k {
	case tagStart:
		return "start"
	case tagEnd:
		return "end"
	default:
		return "empty"
	}
}

// The read buffer starts small, for the many short replies, and grows to
// readBufferSize while a large document keeps filling it.
const (
	initialBufferSize = 4 << 10
	readBufferSize    = 64 << 10
)

// scanner reads the small subset of XML that XML-RPC uses straight from a
// byte buffer: tags without meaningful attributes, character data with
// entities and CDATA, comments and processing instructions (skipped).
// It never builds a token tree, and byte slices it returns point into its
// buffer: they are valid only until the next call that may read input.
//
// buf[pos:] is the unread input. With a reader, fill moves the unread bytes
// to the front and reads more, so callers keep positions relative to pos.
type scanner struct {
	buf      []byte
	pos      int
	r        io.Reader // nil when scanning a complete byte slice
	rerr     error     // sticky read error
	growNext bool      // the last read filled the buffer: grow it before the next

	base     int64 // input offset of buf[0], for error messages and limits
	maxBytes int64

	scratch []byte // decoded text that could not be returned in place

	// While capturing (for RawValue), bytes that fill discards are kept.
	capturing bool
	capStart  int
	captured  []byte
}

func (s *scanner) offset() int64 { return s.base + int64(s.pos) }

func (s *scanner) syntaxError(format string, args ...any) error {
	return &SyntaxError{Offset: s.offset(), Msg: fmt.Sprintf(format, args...)}
}

// eofError turns running out of input into a syntax error, and passes read
// errors and limit errors through.
func (s *scanner) eofError(err error) error {
	if err == io.EOF {
		return &SyntaxError{Offset: s.offset(), Msg: "unexpected end of document", Err: io.ErrUnexpectedEOF}
	}
	return err
}

// fill reads more input after the unread bytes. It returns io.EOF when the
// input is exhausted, or the read or limit error.
func (s *scanner) fill() error {
	if s.rerr != nil {
		return s.rerr
	}
	if s.r == nil {
		s.rerr = io.EOF
		return io.EOF
	}
	keep := s.pos
	if s.capturing {
		s.captured = append(s.captured, s.buf[s.capStart:s.pos]...)
		s.capStart = 0
	}
	if keep > 0 {
		n := copy(s.buf, s.buf[keep:])
		s.buf = s.buf[:n]
		s.base += int64(keep)
		s.pos = 0
	}
	if len(s.buf) == cap(s.buf) || s.growNext {
		size := 2 * cap(s.buf)
		if size < initialBufferSize {
			size = initialBufferSize
		}
		nb := make([]byte, len(s.buf), size)
		copy(nb, s.buf)
		s.buf = nb
		s.growNext = false
	}
	for empty := 0; ; empty++ {
		n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+n]
		// A read that filled the buffer says more is waiting: read more at once next time.
		s.growNext = len(s.buf) == cap(s.buf) && cap(s.buf) < readBufferSize
		if s.base+int64(len(s.buf)) > s.maxBytes {
			s.rerr = &LimitError{What: "document size", Limit: s.maxBytes, Err: ErrTooLarge}
			return s.rerr
		}
		if n > 0 {
			if err != nil {
				s.rerr = err
			}
			return nil
		}
		if err != nil {
			s.rerr = err
			return err
		}
		if empty == 100 {
			s.rerr = io.ErrNoProgress
			return s.rerr
		}
	}
}

// ensure makes at least n unread bytes available, or fails.
func (s *scanner) ensure(n int) error {
	for len(s.buf)-s.pos < n {
		if err := s.fill(); err != nil {
			return err
		}
	}
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// trimSpace trims XML white space; bytes.TrimSpace would also trim Unicode
// spaces, which XML does not treat as white space.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// skipSpace consumes white space; at the end of the input it returns io.EOF.
func (s *scanner) skipSpace() error {
	for {
		for s.pos < len(s.buf) {
			if !isSpace(s.buf[s.pos]) {
				return nil
			}
			s.pos++
		}
		if err := s.fill(); err != nil {
			return err
		}
	}
}

// indexFrom returns the position, relative to pos, of the first occurrence of
// sep at or after pos+from, reading more input as needed.
func (s *scanner) indexFrom(from int, sep []byte) (int, error) {
	for {
		if s.pos+from < len(s.buf) {
			if i := bytes.Index(s.buf[s.pos+from:], sep); i >= 0 {
				return from + i, nil
			}
			// Keep the bytes that could start a match split by the refill.
			if from = len(s.buf) - s.pos - len(sep) + 1; from < 0 {
				from = 0
			}
		}
		if err := s.fill(); err != nil {
			return 0, err
		}
	}
}

func (s *scanner) hasPrefix(prefix string) (bool, error) {
	if err := s.ensure(len(prefix)); err != nil && err != io.EOF {
		return false, err
	}
	return bytes.HasPrefix(s.buf[s.pos:], []byte(prefix)), nil
}

// skipMarkup skips a comment, processing instruction or XML declaration at
// pos, which starts with "<!" or "<?". DOCTYPE and other declarations are
// refused: XML-RPC has no use for them and they open entity expansion attacks.
func (s *scanner) skipMarkup() error {
	if err := s.ensure(2); err != nil {
		return s.eofError(err)
	}
	if s.buf[s.pos+1] == '?' {
		end, err := s.indexFrom(2, []byte("?>"))
		if err != nil {
			return s.eofError(err)
		}
		s.pos += end + 2
		return nil
	}
	if ok, err := s.hasPrefix("<!--"); err != nil {
		return err
	} else if ok {
		end, err := s.indexFrom(4, []byte("-->"))
		if err != nil {
			return s.eofError(err)
		}
		s.pos += end + 3
		return nil
	}
	if ok, _ := s.hasPrefix("<!DOCTYPE"); ok {
		return &SyntaxError{Offset: s.offset(), Msg: "document type declarations are not allowed", Err: ErrDTD}
	}
	if ok, _ := s.hasPrefix("<!ENTITY"); ok {
		return &SyntaxError{Offset: s.offset(), Msg: "entity declarations are not allowed", Err: ErrDTD}
	}
	return s.syntaxError("unexpected markup %q", s.preview())
}

// preview returns a few unread bytes for error messages.
func (s *scanner) preview() string {
	_ = s.ensure(16) // on an error path: read ahead for the message, whatever the input holds
	end := s.pos + 16
	if end > len(s.buf) {
		end = len(s.buf)
	}
	return string(s.buf[s.pos:end])
}

// nextTag skips white space, comments and processing instructions and reads
// the next tag. It returns the tag's local name: the part after any
// namespace prefix, as Python's unmarshaller matches "ex:nil" as "nil".
// Attributes are skipped. Non-space text before the tag is an error.
func (s *scanner) nextTag() (tagKind, []byte, error) {
	for {
		if err := s.skipSpace(); err != nil {
			return 0, nil, s.eofError(err)
		}
		if s.buf[s.pos] != '<' {
			return 0, nil, s.syntaxError("unexpected text %q where a tag was expected", s.preview())
		}
		if err := s.ensure(2); err != nil {
			return 0, nil, s.eofError(err)
		}
		switch s.buf[s.pos+1] {
		case '!', '?':
			if err := s.skipMarkup(); err != nil {
				return 0, nil, err
			}
			continue
		case '/':
			end, err := s.indexFrom(2, []byte{'>'})
			if err != nil {
				return 0, nil, s.eofError(err)
			}
			name := trimSpace(s.buf[s.pos+2 : s.pos+end])
			s.pos += end + 1
			return tagEnd, localName(name), nil
		}
		return s.startTag()
	}
}

// startTag reads "<name attr='v' ...>" or "<name .../>" at pos.
func (s *scanner) startTag() (tagKind, []byte, error) {
	// Fast path: a plain tag such as <value> that is already buffered.
	b := s.buf[s.pos+1:]
fast:
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '>':
			s.pos += i + 2
			if i > 0 && b[i-1] == '/' {
				return tagEmpty, localName(b[:i-1]), nil
			}
			if i == 0 {
				return 0, nil, s.syntaxError("empty tag name")
			}
			return tagStart, localName(b[:i]), nil
		case ' ', '\t', '\r', '\n', '"', '\'':
			break fast
		}
	}
	// Attributes: find the closing '>' outside quoted values.
	var quote byte
	i := 1
	for {
		if s.pos+i >= len(s.buf) {
			if err := s.fill(); err != nil {
				return 0, nil, s.eofError(err)
			}
			continue
		}
		c := s.buf[s.pos+i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			body := s.buf[s.pos+1 : s.pos+i]
			s.pos += i + 1
			kind := tagStart
			if n := len(body); n > 0 && body[n-1] == '/' {
				kind, body = tagEmpty, body[:n-1]
			}
			nameEnd := bytes.IndexAny(body, " \t\r\n")
			if nameEnd < 0 {
				nameEnd = len(body)
			}
			if nameEnd == 0 {
				return 0, nil, s.syntaxError("empty tag name")
			}
			return kind, localName(body[:nameEnd]), nil
		}
		i++
	}
}

func localName(name []byte) []byte {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == ':' {
			return name[i+1:]
		}
	}
	return name
}

// skipLiteral skips white space and then lit, if lit comes next and is
// already buffered. It is the fast path for the fixed layout peers write;
// callers fall back to nextTag when it returns false.
func (s *scanner) skipLiteral(lit string) bool {
	i := s.pos
	for i < len(s.buf) && isSpace(s.buf[i]) {
		i++
	}
	if len(s.buf)-i >= len(lit) && string(s.buf[i:i+len(lit)]) == lit {
		s.pos = i + len(lit)
		return true
	}
	return false
}

// expectTag reads the next tag and checks its kind and local name.
func (s *scanner) expectTag(kind tagKind, name string) error {
	k, n, err := s.nextTag()
	if err != nil {
		return err
	}
	if k != kind || string(n) != name {
		return s.syntaxError("expected %s tag <%s>, found %s tag <%s>", kind, name, k, n)
	}
	return nil
}

// text reads character data up to the next tag and returns it decoded:
// entities and character references replaced, CDATA sections unwrapped,
// comments dropped and line ends normalised as XML requires. The result is
// valid until the next scanner call; pos is left at the '<' that follows.
func (s *scanner) text() ([]byte, error) {
	s.scratch = s.scratch[:0]
	inScratch := false
	for {
		n := 0
		for {
			if i := bytes.IndexByte(s.buf[s.pos+n:], '<'); i >= 0 {
				n += i
				break
			}
			n = len(s.buf) - s.pos
			if err := s.fill(); err != nil {
				return nil, s.eofError(err)
			}
		}
		// Look past the '<' for a comment or CDATA section; a tag ends the text.
		if err := s.ensure(n + 2); err != nil {
			return nil, s.eofError(err)
		}
		seg := s.buf[s.pos : s.pos+n]
		if s.buf[s.pos+n+1] != '!' && !inScratch {
			if plain, err := s.checkText(seg); err != nil {
				return nil, err
			} else if plain {
				s.pos += n
				return seg, nil
			}
		}
		if err := s.appendText(seg); err != nil {
			return nil, err
		}
		inScratch = true
		s.pos += n
		if s.buf[s.pos+1] != '!' {
			return s.scratch, nil
		}
		if ok, err := s.hasPrefix("<![CDATA["); err != nil {
			return nil, err
		} else if ok {
			end, err := s.indexFrom(9, []byte("]]>"))
			if err != nil {
				return nil, s.eofError(err)
			}
			if err := s.appendChars(s.buf[s.pos+9 : s.pos+end]); err != nil {
				return nil, err
			}
			s.pos += end + 3
			continue
		}
		if err := s.skipMarkup(); err != nil {
			return nil, err
		}
	}
}

// checkText reports whether seg can be returned as is: it holds no entity
// and no carriage return. It fails on characters XML cannot carry.
func (s *scanner) checkText(seg []byte) (bool, error) {
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if c >= 0x20 && c < 0x80 && c != '&' {
			continue
		}
		switch {
		case c == '&' || c == '\r':
			return false, nil
		case c < 0x20:
			if c != '\t' && c != '\n' {
				return false, s.syntaxError("character U+%04X is not allowed in XML", c)
			}
		default:
			r, size := utf8.DecodeRune(seg[i:])
			if err := s.checkRune(r, size); err != nil {
				return false, err
			}
			i += size - 1
		}
	}
	return true, nil
}

func (s *scanner) checkRune(r rune, size int) error {
	if r == utf8.RuneError && size <= 1 {
		return s.syntaxError("invalid UTF-8")
	}
	if !isXMLChar(r) {
		return s.syntaxError("character U+%04X is not allowed in XML", r)
	}
	return nil
}

// appendText appends seg to scratch with entities decoded and line ends
// normalised.
func (s *scanner) appendText(seg []byte) error {
	for len(seg) > 0 {
		i := bytes.IndexByte(seg, '&')
		chunk := seg
		if i >= 0 {
			chunk = seg[:i]
		}
		if err := s.appendChars(chunk); err != nil {
			return err
		}
		if i < 0 {
			return nil
		}
		seg = seg[i:]
		semi := bytes.IndexByte(seg, ';')
		if semi < 0 || semi > 12 {
			return s.syntaxError("unterminated entity reference %q", truncate(seg, 12))
		}
		r, err := decodeEntity(seg[1:semi])
		if err != nil {
			return s.syntaxError("%v", err)
		}
		s.scratch = utf8.AppendRune(s.scratch, r)
		seg = seg[semi+1:]
	}
	return nil
}

// appendChars appends literal character data, turning CR LF and lone CR
// into LF as an XML parser does.
func (s *scanner) appendChars(b []byte) error {
	if _, err := s.checkText(b); err != nil {
		return err
	}
	for {
		i := bytes.IndexByte(b, '\r')
		if i < 0 {
			s.scratch = append(s.scratch, b...)
			return nil
		}
		s.scratch = append(s.scratch, b[:i]...)
		s.scratch = append(s.scratch, '\n')
		b = b[i+1:]
		if len(b) > 0 && b[0] == '\n' {
			b = b[1:]
		}
	}
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func decodeEntity(name []byte) (rune, error) {
	switch string(name) {
	case "lt":
		return '<', nil
	case "gt":
		return '>', nil
	case "amp":
		return '&', nil
	case "quot":
		return '"', nil
	case "apos":
		return '\'', nil
	}
	if len(name) < 2 || name[0] != '#' {
		return 0, fmt.Errorf("undefined entity &%s;", name)
	}
	digits, base := name[1:], 10
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	n, err := strconv.ParseUint(string(digits), base, 32)
	if err != nil || !isXMLChar(rune(n)) {
		return 0, fmt.Errorf("invalid character reference &%s;", name)
	}
	return rune(n), nil
}

// isXMLChar reports whether XML 1.0 can carry r (its production Char).
func isXMLChar(r rune) bool {
	switch {
	case r >= 0x20 && r <= 0xD7FF:
		return true
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	case r >= 0x10000 && r <= utf8.MaxRune:
		return true
	}
	return false
}

// prolog consumes an optional byte order mark and XML declaration, and
// switches to Latin-1 decoding when the declaration asks for it.
func (s *scanner) prolog() error {
	if err := s.ensure(4); err != nil && err != io.EOF {
		return err
	}
	rest := s.buf[s.pos:]
	switch {
	case bytes.HasPrefix(rest, []byte("\xef\xbb\xbf")):
		s.pos += 3
	case bytes.HasPrefix(rest, []byte("\xfe\xff")), bytes.HasPrefix(rest, []byte("\xff\xfe")),
		bytes.HasPrefix(rest, []byte("\x00<")), bytes.HasPrefix(rest, []byte("<\x00")):
		return &SyntaxError{Offset: s.offset(), Msg: "UTF-16 documents are not supported", Err: ErrEncoding}
	}
	ok, err := s.hasPrefix("<?xml")
	if err != nil || !ok {
		return err
	}
	end, err := s.indexFrom(5, []byte("?>"))
	if err != nil {
		return s.eofError(err)
	}
	encoding := declaredEncoding(s.buf[s.pos : s.pos+end])
	s.pos += end + 2
	switch string(bytes.ToLower(encoding)) {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return nil
	case "iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1":
		s.useLatin1()
		return nil
	}
	return &SyntaxError{Offset: s.offset(), Msg: fmt.Sprintf("unsupported encoding %q", encoding), Err: ErrEncoding}
}

func declaredEncoding(decl []byte) []byte {
	i := bytes.Index(decl, []byte("encoding"))
	if i < 0 {
		return nil
	}
	rest := bytes.TrimLeft(decl[i+len("encoding"):], " \t\r\n")
	if len(rest) == 0 || rest[0] != '=' {
		return nil
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) < 2 || (rest[0] != '"' && rest[0] != '\'') {
		return nil
	}
	if j := bytes.IndexByte(rest[1:], rest[0]); j >= 0 {
		return rest[1 : 1+j]
	}
	return nil
}

// useLatin1 transcodes the rest of the input from ISO-8859-1 to UTF-8.
func (s *scanner) useLatin1() {
	rest := latin1ToUTF8(nil, s.buf[s.pos:])
	s.base += int64(s.pos)
	s.pos = 0
	s.buf = rest
	if s.r != nil {
		s.r = &latin1Reader{r: s.r}
	}
}

func latin1ToUTF8(dst, src []byte) []byte {
	for _, c := range src {
		dst = utf8.AppendRune(dst, rune(c))
	}
	return dst
}

type latin1Reader struct {
	r   io.Reader
	raw []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	// Each Latin-1 byte becomes at most two UTF-8 bytes.
	n := len(p) / 2
	if n == 0 {
		return 0, errors.New("xmlrpc: read buffer too small")
	}
	if cap(l.raw) < n {
		l.raw = make([]byte, n)
	}
	m, err := l.r.Read(l.raw[:n])
	out := latin1ToUTF8(p[:0], l.raw[:m])
	return len(out), err
}

// atEndTag skips white space, comments and processing instructions and
// reports whether an end tag follows, leaving pos at its '<'.
func (s *scanner) atEndTag() (bool, error) {
	for {
		if err := s.skipSpace(); err != nil {
			return false, s.eofError(err)
		}
		if s.buf[s.pos] != '<' {
			return false, s.syntaxError("unexpected text %q where a tag was expected", s.preview())
		}
		if err := s.ensure(2); err != nil {
			return false, s.eofError(err)
		}
		switch s.buf[s.pos+1] {
		case '/':
			return true, nil
		case '!', '?':
			if err := s.skipMarkup(); err != nil {
				return false, err
			}
		default:
			return false, nil
		}
	}
}

// atEOF skips trailing white space, comments and processing instructions
// and fails if anything else follows the document.
func (s *scanner) atEOF() error {
	for {
		err := s.skipSpace()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if s.buf[s.pos] != '<' || s.ensure(2) != nil || (s.buf[s.pos+1] != '!' && s.buf[s.pos+1] != '?') {
			return s.syntaxError("unexpected %q after the document", s.preview())
		}
		if err := s.skipMarkup(); err != nil {
			return err
		}
	}
}
