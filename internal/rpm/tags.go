package rpm

// Header tag numbers (rpmtag.h) this package reads or writes, and
// LONGFILESIZES for callers listing files over 4 GiB. Other tags are
// kept in Header with their numbers as found.
const (
	TagHeaderSignatures = 62  // region tag of the signature header
	TagHeaderImmutable  = 63  // region tag of the main header
	TagHeaderI18NTable  = 100 // locales of I18NSTRING values

	TagName              = 1000
	TagVersion           = 1001
	TagRelease           = 1002
	TagEpoch             = 1003
	TagSummary           = 1004
	TagDescription       = 1005
	TagBuildTime         = 1006
	TagBuildHost         = 1007
	TagSize              = 1009
	TagVendor            = 1011
	TagLicense           = 1014
	TagPackager          = 1015
	TagGroup             = 1016
	TagURL               = 1020
	TagOS                = 1021
	TagArch              = 1022
	TagOldFilenames      = 1027
	TagFileSizes         = 1028
	TagFileModes         = 1030
	TagFileRdevs         = 1033
	TagFileMtimes        = 1034
	TagFileDigests       = 1035
	TagFileLinkTos       = 1036
	TagFileFlags         = 1037
	TagFileUsername      = 1039
	TagFileGroupname     = 1040
	TagSourceRPM         = 1044
	TagFileVerifyFlags   = 1045
	TagProvideName       = 1047
	TagRequireFlags      = 1048
	TagRequireName       = 1049
	TagRequireVersion    = 1050
	TagConflictFlags     = 1053
	TagConflictName      = 1054
	TagConflictVersion   = 1055
	TagObsoleteName      = 1090
	TagFileDevices       = 1095
	TagFileInodes        = 1096
	TagFileLangs         = 1097
	TagSourcePackage     = 1106
	TagProvideFlags      = 1112
	TagProvideVersion    = 1113
	TagObsoleteFlags     = 1114
	TagObsoleteVersion   = 1115
	TagDirIndexes        = 1116
	TagBasenames         = 1117
	TagDirnames          = 1118
	TagPayloadFormat     = 1124
	TagPayloadCompressor = 1125
	TagPayloadFlags      = 1126
	TagLongFileSizes     = 5008
	TagLongSize          = 5009
	TagFileDigestAlgo    = 5011
	TagEncoding          = 5062
	TagPayloadDigest     = 5092
	TagPayloadDigestAlgo = 5093
)

// Signature header tags (rpmtag.h RPMSIGTAG_*).
const (
	SigTagSHA1        = 269  // hex SHA-1 of the main header
	SigTagSHA256      = 273  // hex SHA-256 of the main header
	SigTagSize        = 1000 // size of main header plus compressed payload
	SigTagMD5         = 1004 // MD5 of main header plus compressed payload (RPMTAG_SIGMD5)
	SigTagPayloadSize = 1007 // size of the uncompressed payload
)

// TagType is the data type of a header entry.
type TagType uint32

// Header entry types (rpmTagType).
const (
	TypeNull        TagType = 0
	TypeChar        TagType = 1
	TypeInt8        TagType = 2
	TypeInt16       TagType = 3
	TypeInt32       TagType = 4
	TypeInt64       TagType = 5
	TypeString      TagType = 6
	TypeBin         TagType = 7
	TypeStringArray TagType = 8
	TypeI18NString  TagType = 9
)

// width is the size of one element of an integer or byte type, 0 for the
// string types.
func (t TagType) width() int64 {
	switch t {
	case TypeChar, TypeInt8, TypeBin:
		return 1
	case TypeInt16:
		return 2
	case TypeInt32:
		return 4
	case TypeInt64:
		return 8
	}
	return 0
}

// DepFlags are the RPMSENSE_* bits of a dependency.
type DepFlags uint32

// RPMSENSE_* bits (rpmds.h).
const (
	DepLess          DepFlags = 1 << 1
	DepGreater       DepFlags = 1 << 2
	DepEqual         DepFlags = 1 << 3
	DepPostTrans     DepFlags = 1 << 5
	DepPrereq        DepFlags = 1 << 6
	DepPreTrans      DepFlags = 1 << 7
	DepInterp        DepFlags = 1 << 8
	DepScriptPre     DepFlags = 1 << 9
	DepScriptPost    DepFlags = 1 << 10
	DepScriptPreun   DepFlags = 1 << 11
	DepScriptPostun  DepFlags = 1 << 12
	DepScriptVerify  DepFlags = 1 << 13
	DepFindRequires  DepFlags = 1 << 14
	DepFindProvides  DepFlags = 1 << 15
	DepTriggerIn     DepFlags = 1 << 16
	DepTriggerUn     DepFlags = 1 << 17
	DepTriggerPostun DepFlags = 1 << 18
	DepMissingOK     DepFlags = 1 << 19
	DepRPMLib        DepFlags = 1 << 24
	DepTriggerPrein  DepFlags = 1 << 25
	DepKeyring       DepFlags = 1 << 26
	DepConfig        DepFlags = 1 << 28

	// DepSenseMask selects the comparison bits.
	DepSenseMask = DepLess | DepGreater | DepEqual
)

// Op is the comparison as createrepo writes it in primary.xml's flags
// attribute: "LT", "GT", "EQ", "LE", "GE", or "" when the dependency has no
// version comparison.
func (f DepFlags) Op() string {
	switch f & DepSenseMask {
	case DepLess:
		return "LT"
	case DepGreater:
		return "GT"
	case DepEqual:
		return "EQ"
	case DepLess | DepEqual:
		return "LE"
	case DepGreater | DepEqual:
		return "GE"
	}
	return ""
}

// Pre reports whether the dependency must be met before the package's
// install scripts run, which createrepo marks with pre="1".
func (f DepFlags) Pre() bool {
	return f&(DepPrereq|DepScriptPre|DepScriptPost) != 0
}
