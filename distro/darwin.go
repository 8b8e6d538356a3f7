package distro

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"runtime"

	"github.com/ssm-setup/ssm-setup/internal/fail"
)

// systemVersionPlist names the running macOS and its version; it exists on every macOS
// and is an XML property list.
const systemVersionPlist = "System/Library/CoreServices/SystemVersion.plist"

// macAgentPath is where amazon-ssm-agent.pkg installs the agent.
const macAgentPath = "opt/aws/ssm/bin/amazon-ssm-agent"

// darwinPlatform describes a macOS system. AWS publishes darwin_amd64 and darwin_arm64
// packages but supports them only on EC2 Mac instances, and not for hybrid activation,
// which is what ssm-setup does off EC2: so macOS is compatible at best.
func darwinPlatform(productName, productVersion, arch string) Platform {
	p := Platform{
		OS:   "darwin",
		Arch: arch,
		Distro: Distro{ID: "macos", IDLike: []string{}, VersionID: productVersion,
			Name: productName, PrettyName: productName + " " + productVersion},
		PackageManager: "installer",
		InitSystem:     "launchd",
	}
	if arch != "amd64" && arch != "arm64" {
		p.Support, p.Reason = Unsupported, fmt.Sprintf("AWS publishes no macOS agent for %s (only amd64 and arm64)", arch)
		return p
	}
	p.Support = Compatible
	p.Reason = "the agent supports macOS only on EC2 Mac instances; hybrid activation is unsupported on macOS"
	p.PackageFormat = "pkg"
	p.PlatformFolder = "darwin_" + arch
	return p
}

// parseSystemVersion reads ProductName and ProductVersion from SystemVersion.plist.
func parseSystemVersion(data []byte) (productName, productVersion string, err error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var key string
	inKey, inString := false, false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			inKey, inString = t.Name.Local == "key", t.Name.Local == "string"
		case xml.EndElement:
			inKey, inString = false, false
		case xml.CharData:
			switch {
			case inKey:
				key = string(t)
			case inString && key == "ProductName":
				productName = string(t)
			case inString && key == "ProductVersion":
				productVersion = string(t)
			}
		}
	}
	if productName == "" || productVersion == "" {
		return "", "", errors.New("no ProductName and ProductVersion strings")
	}
	return productName, productVersion, nil
}

func (d detection) darwin(ctx context.Context, arch string) (Platform, error) {
	file := path.Join(d.rootDir, systemVersionPlist)
	data, err := d.r.readFile(systemVersionPlist)
	if errors.Is(err, fs.ErrNotExist) {
		return Platform{}, fail.WithHint(fail.Usagef("no %s under %s", systemVersionPlist, d.rootDir), "point --root at the root of a macOS system")
	}
	if err != nil {
		return Platform{}, fail.Wrap(fail.Unexpected, fmt.Errorf("read %s: %w", file, err))
	}
	name, version, err := parseSystemVersion(data)
	if err != nil {
		return Platform{}, fail.New(fail.Unsupported, "malformed %s: %w", file, err)
	}
	if arch == "" {
		arch = runtime.GOARCH
	}
	p := darwinPlatform(name, version, arch)
	if d.r.isFile(macAgentPath) {
		p.Agent = Agent{Installed: true, Via: "pkg"}
		if d.o.IsHost {
			p.Agent.Version = agentBinaryVersion(ctx, d.o.Runner, filepath.Join(d.rootDir, filepath.FromSlash(macAgentPath)), d.log)
		}
	}
	return p, nil
}
