package rpm

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// The named fields of a package as rpm's Python bindings answer
// hdr[rpm.RPMTAG_<NAME>] for a header read by ts.hdrFromFdno (what
// koji.get_header_field reads): the tag names rpm 4.18 exports
// (rpm --querytags), their numbers and return types (rpmtag.h), the
// signature tags merged into the header as rpm merges them, and the
// extension tags computed as rpm computes them.

// ErrNoSuchField is the error of Field for a name rpm does not export.
var ErrNoSuchField = errors.New("no such rpm header field")

// ErrUnsupportedField is the error of Field for an extension tag (one
// rpm computes rather than reads) this package does not compute; every
// one rpm 4.18 exports is computed (TestFieldErrors reads them all).
var ErrUnsupportedField = errors.New("rpm header extension not supported")

// fieldTable lists NAME=number, "a" after the number for a tag of the
// array return type, "x" for an extension tag (one rpm's tagexts.c
// computes). FSCONTEXTS and RECONTEXTS, which rpmtag.h still calls
// extensions, are plain tags here: rpm 4.18's tagexts.c has no function
// for them (the context tags are unused since about rpm 4.6, rpm issue
// #1319, and librpm calls no matchpathcon), so headerGet, for the Python
// bindings as for --qf, reads the tags as stored, whatever the host's
// SELinux policy. rpmbuild never stores them, so rpm -qp --qf
// '[%{FSCONTEXTS}]' prints nothing and hdr[tag] is [].
const fieldTable = `
HEADERIMAGE=61 HEADERSIGNATURES=62 HEADERIMMUTABLE=63 HEADERREGIONS=64 HEADERI18NTABLE=100a
SIGSIZE=257 SIGPGP=259 SIGMD5=261 PKGID=261 SIGGPG=262 PUBKEYS=266a DSAHEADER=267 RSAHEADER=268
SHA1HEADER=269 HDRID=269 LONGSIGSIZE=270x LONGARCHIVESIZE=271x SHA256HEADER=273 VERITYSIGNATURES=276a
VERITYSIGNATUREALGO=277
NAME=1000 N=1000 VERSION=1001 V=1001 RELEASE=1002 R=1002 EPOCH=1003 E=1003 SUMMARY=1004 DESCRIPTION=1005
BUILDTIME=1006 BUILDHOST=1007 INSTALLTIME=1008 SIZE=1009 DISTRIBUTION=1010 VENDOR=1011 GIF=1012 XPM=1013
LICENSE=1014 PACKAGER=1015 GROUP=1016 SOURCE=1018a PATCH=1019a URL=1020 OS=1021 ARCH=1022
PREIN=1023 POSTIN=1024 PREUN=1025 POSTUN=1026 OLDFILENAMES=1027a FILESIZES=1028a FILESTATES=1029a
FILEMODES=1030a FILERDEVS=1033a FILEMTIMES=1034a FILEDIGESTS=1035a FILEMD5S=1035a FILELINKTOS=1036a
FILEFLAGS=1037a FILEUSERNAME=1039a FILEGROUPNAME=1040a ICON=1043 SOURCERPM=1044 FILEVERIFYFLAGS=1045a
ARCHIVESIZE=1046 PROVIDENAME=1047a PROVIDES=1047a P=1047a REQUIREFLAGS=1048a REQUIRENAME=1049a
REQUIRES=1049a REQUIREVERSION=1050a NOSOURCE=1051a NOPATCH=1052a CONFLICTFLAGS=1053a CONFLICTNAME=1054a
CONFLICTS=1054a C=1054a CONFLICTVERSION=1055a EXCLUDEARCH=1059a EXCLUDEOS=1060a EXCLUSIVEARCH=1061a
EXCLUSIVEOS=1062a RPMVERSION=1064 TRIGGERSCRIPTS=1065a TRIGGERNAME=1066a TRIGGERVERSION=1067a
TRIGGERFLAGS=1068a TRIGGERINDEX=1069a VERIFYSCRIPT=1079 CHANGELOGTIME=1080a CHANGELOGNAME=1081a
CHANGELOGTEXT=1082a PREINPROG=1085a POSTINPROG=1086a PREUNPROG=1087a POSTUNPROG=1088a BUILDARCHS=1089a
OBSOLETENAME=1090a OBSOLETES=1090a O=1090a VERIFYSCRIPTPROG=1091a TRIGGERSCRIPTPROG=1092a COOKIE=1094
FILEDEVICES=1095a FILEINODES=1096a FILELANGS=1097a PREFIXES=1098a INSTPREFIXES=1099a SOURCEPACKAGE=1106
PROVIDEFLAGS=1112a PROVIDEVERSION=1113a OBSOLETEFLAGS=1114a OBSOLETEVERSION=1115a DIRINDEXES=1116a
BASENAMES=1117a DIRNAMES=1118a ORIGDIRINDEXES=1119a ORIGBASENAMES=1120a ORIGDIRNAMES=1121a OPTFLAGS=1122
DISTURL=1123 PAYLOADFORMAT=1124 PAYLOADCOMPRESSOR=1125 PAYLOADFLAGS=1126 INSTALLCOLOR=1127 INSTALLTID=1128
REMOVETID=1129 PLATFORM=1132 PATCHESNAME=1133a PATCHESFLAGS=1134a PATCHESVERSION=1135a FILECOLORS=1140a
FILECLASS=1141ax CLASSDICT=1142a FILEDEPENDSX=1143a FILEDEPENDSN=1144a DEPENDSDICT=1145a SOURCEPKGID=1146
FILECONTEXTS=1147a FSCONTEXTS=1148a RECONTEXTS=1149a POLICIES=1150a PRETRANS=1151 POSTTRANS=1152
PRETRANSPROG=1153a POSTTRANSPROG=1154a DISTTAG=1155 OLDSUGGESTSNAME=1156a OLDSUGGESTS=1156a
OLDSUGGESTSVERSION=1157a OLDSUGGESTSFLAGS=1158a OLDENHANCESNAME=1159a OLDENHANCES=1159a
OLDENHANCESVERSION=1160a OLDENHANCESFLAGS=1161a DBINSTANCE=1195x NVRA=1196x
FILENAMES=5000ax FILEPROVIDE=5001ax FILEREQUIRE=5002ax TRIGGERCONDS=5005ax TRIGGERTYPE=5006ax
ORIGFILENAMES=5007ax LONGFILESIZES=5008ax LONGSIZE=5009x FILECAPS=5010a FILEDIGESTALGO=5011 BUGURL=5012
EVR=5013x NVR=5014x NEVR=5015x NEVRA=5016x HEADERCOLOR=5017x VERBOSE=5018x EPOCHNUM=5019x
PREINFLAGS=5020 POSTINFLAGS=5021 PREUNFLAGS=5022 POSTUNFLAGS=5023 PRETRANSFLAGS=5024 POSTTRANSFLAGS=5025
VERIFYSCRIPTFLAGS=5026 TRIGGERSCRIPTFLAGS=5027a POLICYNAMES=5030a POLICYTYPES=5031a
POLICYTYPESINDEXES=5032a POLICYFLAGS=5033a VCS=5034 ORDERNAME=5035a ORDERVERSION=5036a ORDERFLAGS=5037a
INSTFILENAMES=5040ax REQUIRENEVRS=5041ax PROVIDENEVRS=5042ax OBSOLETENEVRS=5043ax CONFLICTNEVRS=5044ax
FILENLINKS=5045ax RECOMMENDNAME=5046a RECOMMENDS=5046a RECOMMENDVERSION=5047a RECOMMENDFLAGS=5048a
SUGGESTNAME=5049a SUGGESTS=5049a SUGGESTVERSION=5050a SUGGESTFLAGS=5051a SUPPLEMENTNAME=5052a
SUPPLEMENTS=5052a SUPPLEMENTVERSION=5053a SUPPLEMENTFLAGS=5054a ENHANCENAME=5055a ENHANCES=5055a
ENHANCEVERSION=5056a ENHANCEFLAGS=5057a RECOMMENDNEVRS=5058ax SUGGESTNEVRS=5059ax SUPPLEMENTNEVRS=5060ax
ENHANCENEVRS=5061ax ENCODING=5062 FILETRIGGERSCRIPTS=5066a FILETRIGGERSCRIPTPROG=5067a
FILETRIGGERSCRIPTFLAGS=5068a FILETRIGGERNAME=5069a FILETRIGGERINDEX=5070a FILETRIGGERVERSION=5071a
FILETRIGGERFLAGS=5072a TRANSFILETRIGGERSCRIPTS=5076a TRANSFILETRIGGERSCRIPTPROG=5077a
TRANSFILETRIGGERSCRIPTFLAGS=5078a TRANSFILETRIGGERNAME=5079a TRANSFILETRIGGERINDEX=5080a
TRANSFILETRIGGERVERSION=5081a TRANSFILETRIGGERFLAGS=5082a FILETRIGGERPRIORITIES=5084a
TRANSFILETRIGGERPRIORITIES=5085a FILETRIGGERCONDS=5086ax FILETRIGGERTYPE=5087ax
TRANSFILETRIGGERCONDS=5088ax TRANSFILETRIGGERTYPE=5089ax FILESIGNATURES=5090a FILESIGNATURELENGTH=5091
PAYLOADDIGEST=5092a PAYLOADDIGESTALGO=5093 MODULARITYLABEL=5096 PAYLOADDIGESTALT=5097a ARCHSUFFIX=5098x
SPEC=5099 TRANSLATIONURL=5100 UPSTREAMRELEASES=5101
`

// A fieldInfo is one exported tag.
type fieldInfo struct {
	tag       int
	array     bool // RPM_ARRAY_RETURN_TYPE
	extension bool
}

var (
	fieldsOnce sync.Once
	fieldNames map[string]fieldInfo
	tagNames   map[int]string // tag number → its name in rpm.tagnames
)

func loadFields() {
	fieldNames = map[string]fieldInfo{}
	tagNames = map[int]string{}
	for _, item := range strings.Fields(fieldTable) {
		name, spec, _ := strings.Cut(item, "=")
		digits := strings.TrimRight(spec, "ax")
		tag, err := strconv.Atoi(digits)
		if err != nil {
			panic("rpm: bad field table entry " + item)
		}
		flags := spec[len(digits):]
		fieldNames[name] = fieldInfo{tag: tag, array: strings.Contains(flags, "a"), extension: strings.Contains(flags, "x")}
		// rpm.tagnames holds the last of a tag's names in name order
		if name > tagNames[tag] {
			tagNames[tag] = name
		}
	}
}

func lookupField(name string) (fieldInfo, bool) {
	fieldsOnce.Do(loadFields)
	f, ok := fieldNames[name]
	return f, ok
}

// FieldName is the name rpm's Python bindings give tag (rpm.tagnames:
// of its aliases the last in name order), "" for a tag it does not know.
func FieldName(tag int) string {
	fieldsOnce.Do(loadFields)
	return tagNames[tag]
}

// sigMerge maps the signature header's tags to the header tags rpm
// merges them into when it reads a package (headerMergeLegacySigs):
// each is added unless the main header has the tag already.
var sigMerge = map[int]int{
	SigTagSize: 257, 1002: 259, SigTagMD5: 261, 1005: 262, 1006: 263, SigTagPayloadSize: 1046,
	267: 267, 268: 268, SigTagSHA1: 269, 270: 270, 271: 271, SigTagSHA256: 273, 274: 5090, 275: 5091,
	276: 276, 277: 277,
}

// mergedEntry returns the entry of tag in the main header or, failing
// that, the signature entry rpm merges into it.
func (p *Package) mergedEntry(tag int) *entry {
	if e := p.Header.get(tag); e != nil {
		return e
	}
	for st, ht := range sigMerge {
		if ht == tag {
			if e := p.Signature.get(st); e != nil {
				return e
			}
		}
	}
	return nil
}

// MergedTags lists the tags of the header rpm reads from the package:
// the main header's, then the merged signature tags, without the region
// tags headerNextTag skips (hdr.keys()).
func (p *Package) MergedTags() []int {
	var out []int
	seen := map[int]bool{}
	for _, t := range p.Header.Tags() {
		if t == TagHeaderImmutable || t == TagHeaderSignatures || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	for _, st := range p.Signature.Tags() {
		if ht, ok := sigMerge[st]; ok && !seen[ht] {
			seen[ht] = true
			out = append(out, ht)
		}
	}
	return out
}

// Field is hdr[rpm.RPMTAG_<name>] of rpm's Python bindings for an
// upper-case tag name: a string, an int64 or a []byte (BIN), a []any of
// them for a tag of the array return type; nil for a missing tag of the
// scalar return type, an empty []any for a missing array one.
func (p *Package) Field(name string) (any, error) {
	f, ok := lookupField(name)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchField, name)
	}
	if f.extension {
		return p.extension(name, f)
	}
	return entryValue(p.mergedEntry(f.tag), f.array), nil
}

// TagValue is Field for a tag number, as hdr[tag]; a tag rpm does not
// know has the scalar return type.
func (p *Package) TagValue(tag int) (any, error) {
	if name := FieldName(tag); name != "" {
		return p.Field(name)
	}
	return entryValue(p.mergedEntry(tag), false), nil
}

// entryValue converts an entry as rpmtd_AsPyobj does: numbers (CHAR and
// the INT types) to ints, strings to str, BIN to bytes; an array return
// type gives a list, a scalar one the first item.
func entryValue(e *entry, array bool) any {
	if e == nil {
		if array {
			return []any{}
		}
		return nil
	}
	var items []any
	switch v := e.val.(type) {
	case string:
		items = []any{v}
	case []string:
		for _, s := range v {
			items = append(items, s)
		}
		if e.typ == TypeI18NString && !array && len(v) > 0 {
			items = items[:1]
		}
	case []int64:
		for _, n := range v {
			items = append(items, n)
		}
	case []byte:
		if e.typ == TypeBin {
			items = []any{v}
		} else {
			for _, c := range v {
				items = append(items, int64(c))
			}
		}
	}
	if array {
		if items == nil {
			items = []any{}
		}
		return items
	}
	if len(items) == 0 {
		return nil
	}
	return items[0]
}

// extension computes the extension tags rpm's tagexts.c computes from the
// header (headerGet with HEADERGET_EXT); a name marked "x" without a case
// here would be ErrUnsupportedField.
func (p *Package) extension(name string, f fieldInfo) (any, error) {
	h := p.Header
	str := func(tag int) string { s, _ := h.String(tag); return s }
	evr := str(TagVersion) + "-" + str(TagRelease)
	if e, ok := h.Ints(TagEpoch); ok && len(e) > 0 {
		evr = strconv.FormatInt(e[0], 10) + ":" + evr
	}
	arch := str(TagArch)
	switch name {
	case "EPOCHNUM":
		if e, ok := h.Ints(TagEpoch); ok && len(e) > 0 {
			return e[0], nil
		}
		return int64(0), nil
	case "EVR":
		return evr, nil
	case "NVR":
		return str(TagName) + "-" + str(TagVersion) + "-" + str(TagRelease), nil
	case "NEVR":
		return str(TagName) + "-" + evr, nil
	case "NVRA":
		return str(TagName) + "-" + str(TagVersion) + "-" + str(TagRelease) + "." + arch, nil
	case "NEVRA":
		return str(TagName) + "-" + evr + "." + arch, nil
	case "ARCHSUFFIX":
		if p.SourcePackage {
			arch = "src"
			if h.get(1051) != nil || h.get(1052) != nil {
				arch = "nosrc"
			}
		}
		if arch == "" {
			return "", nil
		}
		return "." + arch, nil
	case "LONGSIZE", "LONGARCHIVESIZE", "LONGSIGSIZE", "LONGFILESIZES":
		// the 64-bit tag, else the 32-bit one
		if e := p.mergedEntry(f.tag); e != nil {
			return entryValue(e, f.array), nil
		}
		short := map[string]int{"LONGSIZE": TagSize, "LONGARCHIVESIZE": 1046, "LONGSIGSIZE": 257, "LONGFILESIZES": TagFileSizes}
		return entryValue(p.mergedEntry(short[name]), f.array), nil
	case "FILECLASS":
		// each file's class from the class dictionary
		// (rpmfiFClass): "" without one, a symbolic link's target
		out := []any{}
		dict, _ := h.Strings(1142)
		classes, _ := h.Ints(1141)
		modes, _ := h.Ints(TagFileModes)
		links, _ := h.Strings(TagFileLinkTos)
		base, _ := h.Strings(TagBasenames)
		for i := range base {
			class := ""
			if i < len(classes) && classes[i] >= 0 && classes[i] < int64(len(dict)) {
				class = dict[classes[i]]
			}
			if class == "" && i < len(modes) && modes[i]&0o170000 == 0o120000 && i < len(links) {
				class = "symbolic link to `" + links[i] + "'"
			}
			out = append(out, class)
		}
		return out, nil
	case "FILENAMES", "ORIGFILENAMES":
		base, dirs, idx := TagBasenames, TagDirnames, TagDirIndexes
		if name == "ORIGFILENAMES" {
			base, dirs, idx = 1120, 1121, 1119
		}
		return joinFileNames(h, base, dirs, idx), nil
	case "INSTFILENAMES":
		// the installed files (FILESTATES normal or netshared): none for
		// a package file, which has no states
		out := []any{}
		states, ok := h.Bytes(1029)
		if !ok {
			return out, nil
		}
		for i, f := range joinFileNames(h, TagBasenames, TagDirnames, TagDirIndexes) {
			if i < len(states) && (states[i] == 0 || states[i] == 3) {
				out = append(out, f)
			}
		}
		return out, nil
	case "FILEREQUIRE", "FILEPROVIDE":
		dep, kind := "REQUIRE", int64('R')
		if name == "FILEPROVIDE" {
			dep, kind = "PROVIDE", 'P'
		}
		return fileDeps(h, kind, depNEVRs(h, fieldNames[dep+"NAME"].tag, fieldNames[dep+"FLAGS"].tag,
			fieldNames[dep+"VERSION"].tag)), nil
	case "FILENLINKS":
		return fileNLinks(h), nil
	case "HEADERCOLOR":
		var color int64
		colors, _ := h.Ints(1140)
		for _, c := range colors {
			color |= c
		}
		return color & 0x0f, nil
	case "DBINSTANCE":
		// a header read from a file has no database instance
		return int64(0), nil
	case "VERBOSE":
		// set only when rpm's log level is verbose, which the hub's is not
		return nil, nil
	case "TRIGGERCONDS", "FILETRIGGERCONDS", "TRANSFILETRIGGERCONDS":
		return triggerConds(h, triggerTags[strings.TrimSuffix(name, "CONDS")]), nil
	case "TRIGGERTYPE", "FILETRIGGERTYPE", "TRANSFILETRIGGERTYPE":
		return triggerTypes(h, triggerTags[strings.TrimSuffix(name, "TYPE")]), nil
	case "REQUIRENEVRS", "PROVIDENEVRS", "OBSOLETENEVRS", "CONFLICTNEVRS",
		"RECOMMENDNEVRS", "SUGGESTNEVRS", "SUPPLEMENTNEVRS", "ENHANCENEVRS":
		dep := strings.TrimSuffix(name, "NEVRS")
		return depNEVRs(h, fieldNames[dep+"NAME"].tag, fieldNames[dep+"FLAGS"].tag, fieldNames[dep+"VERSION"].tag), nil
	}
	return nil, fmt.Errorf("%w: %s", ErrUnsupportedField, name)
}

// A triggerSet names the tags of one kind of trigger that rpm's
// triggercondsTagFor and triggertypeTagFor read.
type triggerSet struct{ name, index, flags, version, scripts int }

// triggerTags are the trigger kinds by the prefix of their *CONDS and
// *TYPE extension names.
var triggerTags = map[string]triggerSet{
	"TRIGGER":          {name: 1066, index: 1069, flags: 1068, version: 1067, scripts: 1065},
	"FILETRIGGER":      {name: 5069, index: 5070, flags: 5072, version: 5071, scripts: 5066},
	"TRANSFILETRIGGER": {name: 5079, index: 5080, flags: 5082, version: 5081, scripts: 5076},
}

// entryCount is rpmtdCount of an entry: its number of items (of bytes
// for BIN), 0 when missing.
func entryCount(e *entry) int {
	if e == nil {
		return 0
	}
	switch v := e.val.(type) {
	case string:
		return 1
	case []string:
		return len(v)
	case []int64:
		return len(v)
	case []byte:
		return len(v)
	}
	return 0
}

// byScript groups the positions of a trigger's names by the script their
// index points at (in header order), so the lookups stay linear however
// many names and scripts a header has.
func byScript(indices []int64, n int) map[int64][]int {
	m := map[int64][]int{}
	for j := 0; j < n && j < len(indices); j++ {
		m[indices[j]] = append(m[indices[j]], j)
	}
	return m
}

// triggerConds is rpm's TRIGGERCONDS (triggercondsTagFor): for each
// script, the conditions of the names whose index is that script's, in
// header order, joined by ", ": "name", or "name <op> version" when the
// INT32 flags have comparison bits (the op as rpm's depflags format
// writes it, "<", ">", "=" in that order). None without a name entry. A
// script no name points at has no conditions, which rpm's argvJoin
// answers as NULL (None in Python); flags or versions missing for a name
// count as 0 and "" (rpmbuild writes one of each per name).
func triggerConds(h *Header, tags triggerSet) []any {
	out := []any{}
	ne := h.get(tags.name)
	if ne == nil {
		return out
	}
	var names []string
	switch v := ne.val.(type) {
	case string:
		names = []string{v}
	case []string:
		names = v
	}
	indices, _ := h.Ints(tags.index)
	var flags []int64
	if fe := h.get(tags.flags); fe != nil && fe.typ == TypeInt32 {
		flags, _ = fe.val.([]int64)
	}
	versions, _ := h.Strings(tags.version)
	scripts := byScript(indices, len(names))
	for i := range entryCount(h.get(tags.scripts)) {
		var items []string
		for _, j := range scripts[int64(i)] {
			var f DepFlags
			if j < len(flags) {
				f = DepFlags(flags[j])
			}
			if f&DepSenseMask == 0 {
				items = append(items, names[j])
				continue
			}
			var op, version string
			for _, c := range []struct {
				bit DepFlags
				s   string
			}{{DepLess, "<"}, {DepGreater, ">"}, {DepEqual, "="}} {
				if f&c.bit != 0 {
					op += c.s
				}
			}
			if j < len(versions) {
				version = versions[j]
			}
			items = append(items, names[j]+" "+op+" "+version)
		}
		if items == nil {
			out = append(out, nil)
		} else {
			out = append(out, strings.Join(items, ", "))
		}
	}
	return out
}

// triggerTypes is rpm's TRIGGERTYPE (triggertypeTagFor): for each
// script, from the flags of the first name whose index is the script's,
// "prein", "in", "un", "postun" or "". None without an index entry. A
// script no name points at is left as uninitialized memory by rpm; it is
// None here.
func triggerTypes(h *Header, tags triggerSet) []any {
	out := []any{}
	if h.get(tags.index) == nil {
		return out
	}
	indices, _ := h.Ints(tags.index)
	flags, _ := h.Ints(tags.flags)
	scripts := byScript(indices, len(flags))
	for i := range entryCount(h.get(tags.scripts)) {
		js := scripts[int64(i)]
		if len(js) == 0 {
			out = append(out, nil)
			continue
		}
		switch f := DepFlags(flags[js[0]]); {
		case f&DepTriggerPrein != 0:
			out = append(out, "prein")
		case f&DepTriggerIn != 0:
			out = append(out, "in")
		case f&DepTriggerUn != 0:
			out = append(out, "un")
		case f&DepTriggerPostun != 0:
			out = append(out, "postun")
		default:
			out = append(out, "")
		}
	}
	return out
}

// fileNLinks is rpm's FILENLINKS: for each file, how many of the
// package's regular files share its device and inode (1 for others).
func fileNLinks(h *Header) []any {
	base, _ := h.Strings(TagBasenames)
	modes, _ := h.Ints(TagFileModes)
	devs, _ := h.Ints(TagFileDevices)
	inodes, _ := h.Ints(TagFileInodes)
	regular := func(i int) bool {
		return i < len(modes) && modes[i]&0o170000 == 0o100000 && i < len(devs) && i < len(inodes)
	}
	count := map[[2]int64]int64{}
	for i := range base {
		if regular(i) {
			count[[2]int64{devs[i], inodes[i]}]++
		}
	}
	out := make([]any, len(base))
	for i := range base {
		out[i] = int64(1)
		if regular(i) {
			out[i] = count[[2]int64{devs[i], inodes[i]}]
		}
	}
	return out
}

// fileDeps is rpm's FILEREQUIRE or FILEPROVIDE: for each file, its
// dependencies of kind ('R' or 'P') from the dependency dictionary
// (FILEDEPENDSX and FILEDEPENDSN index DEPENDSDICT, whose entries are the
// kind in the top byte and the dependency's index), space-separated.
func fileDeps(h *Header, kind int64, deps []any) []any {
	base, _ := h.Strings(TagBasenames)
	start, _ := h.Ints(1143)
	count, _ := h.Ints(1144)
	dict, _ := h.Ints(1145)
	out := make([]any, len(base))
	for i := range base {
		var parts []string
		if i < len(start) && i < len(count) {
			for j := start[i]; j >= 0 && j < start[i]+count[i] && j < int64(len(dict)); j++ {
				if dict[j]>>24&0xff != kind {
					continue
				}
				if ix := dict[j] & 0xffffff; ix < int64(len(deps)) {
					parts = append(parts, deps[ix].(string))
				}
			}
		}
		out[i] = strings.Join(parts, " ")
	}
	return out
}

// joinFileNames is rpm's file name list: dirnames[dirindexes[i]] +
// basenames[i], or the legacy OLDFILENAMES.
func joinFileNames(h *Header, baseTag, dirTag, idxTag int) []any {
	out := []any{}
	base, _ := h.Strings(baseTag)
	dirs, _ := h.Strings(dirTag)
	idx, _ := h.Ints(idxTag)
	if len(base) == 0 {
		if baseTag == TagBasenames {
			old, _ := h.Strings(TagOldFilenames)
			for _, s := range old {
				out = append(out, s)
			}
		}
		return out
	}
	for i, b := range base {
		if i < len(idx) && idx[i] >= 0 && idx[i] < int64(len(dirs)) {
			out = append(out, dirs[idx[i]]+b)
		}
	}
	return out
}

// rpmOps are the comparisons as rpm writes them in a dependency.
var rpmOps = map[DepFlags]string{DepLess: "<", DepGreater: ">", DepEqual: "=", DepLess | DepEqual: "<=",
	DepGreater | DepEqual: ">="}

// depNEVRs is rpm's *NEVRS extension: each dependency as "name", or
// "name <op> version" when it has a version.
func depNEVRs(h *Header, nameTag, flagsTag, versionTag int) []any {
	out := []any{}
	names, _ := h.Strings(nameTag)
	flags, _ := h.Ints(flagsTag)
	versions, _ := h.Strings(versionTag)
	for i, n := range names {
		s := n
		if i < len(versions) && versions[i] != "" && i < len(flags) {
			if op := rpmOps[DepFlags(flags[i])&DepSenseMask]; op != "" {
				s += " " + op + " " + versions[i]
			}
		}
		out = append(out, s)
	}
	return out
}
