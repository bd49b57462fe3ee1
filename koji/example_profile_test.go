package koji_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/gokoji/gokoji/koji"
)

// The profile "koji -p fedora" uses, as the CLI reads it.
func ExampleLoadProfile() {
	p, err := koji.LoadProfile("fedora")
	if errors.Is(err, koji.ErrConfiguration) {
		log.Fatalf("no usable configuration: %v", err) // which file and option, if any
	}
	fmt.Println(p.Server, p.AuthType)
}

// A profile read as "koji -c testdata/profiles/fedora.conf -p fedora"
// reads it; /etc/koji.conf.d/*.conf and /etc/koji.conf come first.
func ExampleLoadProfileFile() {
	p, err := koji.LoadProfileFile("testdata/profiles/fedora.conf", "fedora")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Name, p.Server)
	fmt.Println(p.WebURL)
	fmt.Println(p.TopURL)
	fmt.Println(p.AuthType, p.UseFastUpload)
	fmt.Println(p.Extra["krb_rdns"]) // unknown to this package, kept for plugins
	// Output:
	// fedora https://koji.fedoraproject.org/kojihub
	// https://koji.fedoraproject.org/koji
	// https://kojipkgs.fedoraproject.org/
	// kerberos true
	// false
}

func ExampleLoadProfileFile_missingProfile() {
	_, err := koji.LoadProfileFile("testdata/profiles/fedora.conf", "stg")
	fmt.Println(errors.Is(err, koji.ErrConfiguration))
	fmt.Println(err)
	// Output:
	// true
	// koji: no configuration for profile name: stg
}

func ExampleProfileNames() {
	names, err := koji.ProfileNames()
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range names {
		fmt.Println(name)
	}
}

func ExampleDefaultProfile() {
	p := koji.DefaultProfile()
	p.Server = "https://koji.example.com/kojihub"
	fmt.Println(p.Server)
	fmt.Println(p.MaxRetries, p.RetryInterval, p.Timeout, p.UploadBlockSize)
	// Output:
	// https://koji.example.com/kojihub
	// 30 20s 12h0m0s 1048576
}
