package distro

import (
	"fmt"
	"strconv"
	"strings"
)

// lastAgentForOldSystems is the last agent release that runs on Amazon Linux 1, on
// RHEL/CentOS/Oracle Linux 6 and on kernels older than 3.2: agent 3.1 and later need
// a newer kernel and glibc (facts file, section 1).
const lastAgentForOldSystems = "3.0.1479.0"

// A packageFamily is one kind of Linux package AWS publishes the agent as.
type packageFamily struct {
	format string   // rpm or deb
	prefix string   // bucket folder prefix: linux or debian
	arches []string // architectures AWS publishes in this format
}

// The Linux package families. There is no 32-bit ARM rpm, and no ubuntu_* folder: Ubuntu
// and Raspberry Pi OS take the debian_* packages (facts file, section 1).
var (
	rpmFamily = &packageFamily{format: "rpm", prefix: "linux", arches: []string{"amd64", "arm64", "386"}}
	debFamily = &packageFamily{format: "deb", prefix: "debian", arches: []string{"amd64", "arm64", "386", "arm"}}
)

// folder is the bucket folder for arch, or "" when AWS publishes no such package.
func (f *packageFamily) folder(arch string) string {
	for _, a := range f.arches {
		if a == arch {
			return f.prefix + "_" + arch
		}
	}
	return ""
}

// familyOfID is the package family of an os-release ID or ID_LIKE word, or nil.
func familyOfID(id string) *packageFamily {
	switch id {
	case "rhel", "centos", "fedora", "amzn", "rocky", "almalinux", "ol", "scientific",
		"sles", "sles_sap", "sled", "suse", "opensuse", "opensuse-leap", "opensuse-tumbleweed":
		return rpmFamily
	case "debian", "ubuntu", "raspbian":
		return debFamily
	}
	return nil
}

// familyOf finds the package family of a distro: by its ID first, then by the words of
// ID_LIKE in their order (os-release(5) lists them closest first). like is the word that
// matched when it was not the ID itself.
func familyOf(d Distro) (fam *packageFamily, like string) {
	if f := familyOfID(d.ID); f != nil {
		return f, ""
	}
	for _, w := range d.IDLike {
		if f := familyOfID(w); f != nil {
			return f, w
		}
	}
	return nil, ""
}

// A listedDistro is a distribution AWS lists as supported, with the major versions it
// lists. max 0 means "and later".
type listedDistro struct {
	id       string
	min, max int
}

// listedDistros are the distributions AWS supports, from the SSM Agent's list of
// supported operating systems. Amazon Linux, CentOS Stream and Ubuntu have rules of their
// own in listedSupport.
var listedDistros = []listedDistro{
	{id: "amzn"},
	{id: "rhel", min: 6, max: 10},
	{id: "centos", min: 6, max: 9},
	{id: "rocky", min: 8, max: 10},
	{id: "almalinux", min: 8, max: 10},
	{id: "ol", min: 6, max: 9},
	{id: "sles", min: 12, max: 15},
	{id: "sles_sap", min: 12, max: 15},
	{id: "debian", min: 8, max: 12},
	{id: "ubuntu", min: 14},
	{id: "raspbian", min: 8},
}

// verdict is how well AWS supports a Linux distro on an architecture.
type verdict struct {
	family          *packageFamily // nil when no agent package fits
	support, reason string
	folder          string
	maxAgentVersion string
}

// classify decides the support level of a Linux distro on arch. raspberryPi says that a
// "debian" system is Raspberry Pi OS (which AWS lists from version 8 on, like raspbian).
// kernel is the running kernel's release, "" when unknown.
func classify(d Distro, arch, kernel string, raspberryPi bool) verdict {
	id := d.ID
	if raspberryPi && id == "debian" {
		id = "raspbian"
	}
	fam, like := familyOf(d)
	if fam == nil {
		why := fmt.Sprintf("%s is not a distribution AWS supports", describe(d))
		if len(d.IDLike) > 0 {
			why += fmt.Sprintf(", nor like one (ID_LIKE %s)", strings.Join(d.IDLike, " "))
		}
		return verdict{support: Unsupported, reason: why + "; AWS publishes the agent only as rpm and deb packages for the distributions it lists"}
	}
	v := verdict{family: fam}
	version := parseVersion(d.VersionID)
	if l, ok := findListed(id); ok {
		v.support, v.reason = listedSupport(l, d, version, fam)
	} else if like == "" {
		v.support = Compatible
		v.reason = fmt.Sprintf("%s is not on AWS's list of supported distributions; it is in the %s family, so the %s package should work", describe(d), fam.format, fam.format)
	} else {
		v.support = Compatible
		v.reason = fmt.Sprintf("%s is not on AWS's list of supported distributions; it is like %s (ID_LIKE), so the %s package should work", describe(d), like, fam.format)
	}
	if v.support == Unsupported {
		v.family = nil
		return v
	}
	if v.folder = fam.folder(arch); v.folder == "" {
		reason := fmt.Sprintf("AWS publishes no %s package of the agent for %s (only %s)", fam.format, arch, strings.Join(fam.arches, ", "))
		if fam == rpmFamily && arch == "arm" {
			reason = "AWS publishes no 32-bit ARM (arm) rpm package of the agent; only amd64, arm64 and 386"
		}
		return verdict{support: Unsupported, reason: reason}
	}
	if needsOldAgent(id, version, kernel) {
		v.maxAgentVersion = lastAgentForOldSystems
	}
	return v
}

func findListed(id string) (listedDistro, bool) {
	for _, l := range listedDistros {
		if l.id == id {
			return l, true
		}
	}
	return listedDistro{}, false
}

// listedSupport judges a version of a listed distribution: in the listed range it is
// official, older is unsupported, newer (or a non-LTS Ubuntu, or a release without a
// VERSION_ID such as Debian testing) is compatible.
func listedSupport(l listedDistro, d Distro, v []int, fam *packageFamily) (support, reason string) {
	name := describe(d)
	if len(v) == 0 {
		return Compatible, fmt.Sprintf("%s has no numeric VERSION_ID (a testing or rolling release?), so it is not a release AWS lists; the %s package should work", name, fam.format)
	}
	major := v[0]
	switch l.id {
	case "amzn":
		switch {
		case major == 2 || major == 2022 || major == 2023:
			return Official, ""
		case isAmazonLinux1(v):
			return Official, ""
		case major > 2023:
			return Compatible, fmt.Sprintf("%s is newer than the Amazon Linux versions AWS lists (1, 2, 2022, 2023); the rpm package should work", name)
		}
		return Compatible, fmt.Sprintf("%s is not an Amazon Linux version AWS lists (1, 2, 2022, 2023); the rpm package should work", name)
	case "ubuntu":
		lts := major%2 == 0 && len(v) > 1 && v[1] == 4
		switch {
		case compareVersions(v, []int{14, 4}) < 0:
			return Unsupported, fmt.Sprintf("%s is older than the Ubuntu releases AWS supports (14.04 LTS and later)", name)
		case !lts:
			return Compatible, fmt.Sprintf("%s is not an LTS release; AWS lists only Ubuntu LTS releases (14.04 and later), but the deb package should work", name)
		}
		return Official, ""
	case "centos":
		if major >= 8 && strings.Contains(d.Name, "Stream") {
			return Official, ""
		}
	}
	span := fmt.Sprintf("%d-%d", l.min, l.max)
	if l.max == 0 {
		span = fmt.Sprintf("%d and later", l.min)
	}
	switch {
	case major < l.min:
		return Unsupported, fmt.Sprintf("%s is older than the versions AWS supports (%s)", name, span)
	case l.max != 0 && major > l.max:
		return Compatible, fmt.Sprintf("%s is newer than the versions AWS lists (%s); the %s package should work", name, span, fam.format)
	}
	return Official, ""
}

// isAmazonLinux1 reports whether an amzn VERSION_ID is Amazon Linux 1, whose versions
// are year.month: 2011.09 to 2018.03.
func isAmazonLinux1(v []int) bool {
	return len(v) >= 2 && v[0] >= 2011 && v[0] <= 2018
}

// needsOldAgent reports whether only agents up to lastAgentForOldSystems run here:
// Amazon Linux 1, RHEL/CentOS/Oracle Linux 6 (and Scientific Linux 6, the same RHEL 6
// rebuild), or a kernel older than 3.2.
func needsOldAgent(id string, v []int, kernel string) bool {
	switch {
	case id == "amzn" && isAmazonLinux1(v):
		return true
	case (id == "rhel" || id == "centos" || id == "ol" || id == "scientific") && len(v) > 0 && v[0] == 6:
		return true
	}
	k := parseVersion(kernel)
	return len(k) > 0 && compareVersions(k, []int{3, 2}) < 0
}

// describe names a distro for messages: "Debian GNU/Linux 13", or its ID.
func describe(d Distro) string {
	name := d.Name
	if name == "" || name == "Linux" {
		name = d.ID
	}
	if d.VersionID != "" {
		return name + " " + d.VersionID
	}
	return name
}

// parseVersion reads the leading dot-separated numbers of a version ("8.10" -> [8 10],
// "2.6.32-754.el6" -> [2 6 32], "20240807" -> [20240807]). It stops at the first part
// that does not start with a digit and returns nil when there is none.
func parseVersion(s string) []int {
	var v []int
	for _, part := range strings.Split(s, ".") {
		end := 0
		for end < len(part) && part[end] >= '0' && part[end] <= '9' {
			end++
		}
		if end == 0 {
			break
		}
		n, err := strconv.Atoi(part[:end])
		if err != nil {
			break
		}
		v = append(v, n)
		if end < len(part) {
			break
		}
	}
	return v
}

// compareVersions compares two numeric versions part by part; a missing part is 0.
func compareVersions(a, b []int) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}
