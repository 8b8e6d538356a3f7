//go:build linux

package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the rpm packager
)

// PackageName is the name of the agent package in both formats.
const PackageName = "amazon-ssm-agent"

// Unit file locations: the deb ships its unit under /lib, the rpm under /etc
// (facts, section 3).
const (
	DebUnitPath = "/lib/systemd/system/amazon-ssm-agent.service"
	RPMUnitPath = "/etc/systemd/system/amazon-ssm-agent.service"
)

// PkgOptions describes the agent packages BuildPackages makes.
type PkgOptions struct {
	// Version is the agent version, four parts ("3.3.100.0"). The deb's version is
	// Version-1 and the rpm's Version with release 1, like AWS's packages.
	Version string
	// Agent is the binary shipped as /usr/bin/amazon-ssm-agent; empty means
	// BuildAgent(t, Version).
	Agent string
	// Dir receives the packages; empty means a new t.TempDir().
	Dir string
}

// UnitFile is the systemd unit both packages ship, with the settings of the real one.
const UnitFile = `[Unit]
Description=amazon-ssm-agent
After=network-online.target

[Service]
Type=simple
WorkingDirectory=/usr/bin/
ExecStart=/usr/bin/amazon-ssm-agent
KillMode=process
Restart=always
RestartPreventExitStatus=194
RestartSec=90

[Install]
WantedBy=multi-user.target
`

const agentJSONTemplate = `{
    "Profile": {"ShareCreds": true, "ShareProfile": "", "ForceUpdateCreds": false, "KeyAutoRotateDays": 0},
    "Mds": {"CommandWorkersLimit": 5, "StopTimeoutMillis": 20000, "Endpoint": "", "CommandRetryLimit": 15},
    "Ssm": {"Endpoint": "", "HealthFrequencyMinutes": 5, "CustomInventoryDefaultLocation": "", "AssociationLogsRetentionDurationHours": 24, "RunCommandLogsRetentionDurationHours": 336, "SessionLogsRetentionDurationHours": 336, "PluginLocalOutputCleanup": "", "OrchestrationDirectoryCleanup": ""},
    "Mgs": {"Region": "", "Endpoint": "", "StopTimeoutMillis": 20000, "SessionWorkersLimit": 1000, "DeniedPortForwardingRemoteIPs": ["169.254.169.254", "fd00:ec2::254", "169.254.169.253", "fd00:ec2::253"]},
    "Agent": {"Region": "", "OrchestrationRootDir": "", "SelfUpdate": false, "TelemetryMetricsToCloudWatch": false, "AuditExpirationDay": 7, "LongRunningWorkerMonitorIntervalSeconds": 60},
    "Os": {"Lang": "en-US", "Name": "", "Version": "1"},
    "S3": {"Endpoint": "", "Region": "", "LogBucket": "", "LogKey": ""},
    "Identity": {"ConsumptionOrder": ["OnPrem", "EC2", "CustomIdentity"], "CustomIdentities": []}
}
`

const seelogTemplate = `<seelog type="adaptive" mininterval="2000000" maxinterval="100000000" critmsgcount="500" minlevel="info">
    <exceptions>
        <exception filepattern="test*" minlevel="error"/>
    </exceptions>
    <outputs formatid="fmtinfo">
        <console formatid="fmtinfo"/>
        <rollingfile type="size" filename="/var/log/amazon/ssm/amazon-ssm-agent.log" maxsize="30000000" maxrolls="5"/>
        <filter levels="error,critical" formatid="fmterror">
            <rollingfile type="size" filename="/var/log/amazon/ssm/errors.log" maxsize="10000000" maxrolls="5"/>
        </filter>
    </outputs>
    <formats>
        <format id="fmterror" format="%Date %Time %LEVEL [%FuncShort @ %File.%Line] %Msg%n"/>
        <format id="fmtdebug" format="%Date %Time %LEVEL [%FuncShort @ %File.%Line] %Msg%n"/>
        <format id="fmtinfo" format="%Date %Time %LEVEL %Msg%n"/>
    </formats>
</seelog>
`

// Maintainer scripts. Like the real ones they touch systemd only when it runs
// ([ -d /run/systemd/system ]), so installing into an image root works. The old package
// stops the service before an upgrade (deb prerm "upgrade", rpm %pre with $1 >= 2) so the
// new binary is the one that starts; disabling happens only on full removal.
const (
	debPreinst = `#!/bin/sh
if [ -d /snap/amazon-ssm-agent ]; then
    echo "amazon-ssm-agent is already installed as a snap; remove the snap (snap remove amazon-ssm-agent) before installing the deb" >&2
    exit 1
fi
exit 0
`
	postinst = `#!/bin/sh
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable amazon-ssm-agent
    systemctl start amazon-ssm-agent
fi
exit 0
`
	debPrerm = `#!/bin/sh
if [ -d /run/systemd/system ]; then
    case "$1" in
    remove|purge)
        systemctl stop amazon-ssm-agent
        systemctl disable amazon-ssm-agent
        ;;
    upgrade)
        systemctl stop amazon-ssm-agent
        ;;
    esac
fi
exit 0
`
	rpmPre = `#!/bin/sh
if [ "$1" -ge 2 ] && [ -d /run/systemd/system ]; then
    systemctl stop amazon-ssm-agent
fi
exit 0
`
	rpmPreun = `#!/bin/sh
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
    systemctl stop amazon-ssm-agent
    systemctl disable amazon-ssm-agent
fi
exit 0
`
	postrm = `#!/bin/sh
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
fi
exit 0
`
)

// BuildPackages builds amazon-ssm-agent_VERSION-1_amd64.deb and
// amazon-ssm-agent-VERSION-1.x86_64.rpm around the stand-in agent with nfpm and returns
// their paths. Both ship /usr/bin/amazon-ssm-agent, the systemd unit (deb: DebUnitPath,
// rpm: RPMUnitPath), /etc/amazon/ssm/amazon-ssm-agent.json.template and
// seelog.xml.template, and maintainer scripts that behave like AWS's.
func BuildPackages(t testing.TB, o PkgOptions) (debPath, rpmPath string) {
	t.Helper()
	if o.Version == "" {
		t.Fatal("bench: BuildPackages needs a Version")
	}
	if o.Agent == "" {
		o.Agent = BuildAgent(t, o.Version)
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	src := t.TempDir()
	write := func(name, data string, mode os.FileMode) string {
		p := filepath.Join(src, name)
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatalf("bench: %v", err)
		}
		return p
	}
	unit := write("amazon-ssm-agent.service", UnitFile, 0o644)
	jsonTmpl := write("amazon-ssm-agent.json.template", agentJSONTemplate, 0o644)
	seelog := write("seelog.xml.template", seelogTemplate, 0o644)

	common := func(unitDst string) files.Contents {
		return files.Contents{
			{Source: o.Agent, Destination: "/usr/bin/amazon-ssm-agent", FileInfo: &files.ContentFileInfo{Mode: 0o755}},
			{Source: unit, Destination: unitDst, FileInfo: &files.ContentFileInfo{Mode: 0o644}},
			{Source: jsonTmpl, Destination: "/etc/amazon/ssm/amazon-ssm-agent.json.template", Type: files.TypeConfig, FileInfo: &files.ContentFileInfo{Mode: 0o644}},
			{Source: seelog, Destination: "/etc/amazon/ssm/seelog.xml.template", Type: files.TypeConfig, FileInfo: &files.ContentFileInfo{Mode: 0o644}},
		}
	}
	info := func(contents files.Contents) *nfpm.Info {
		return &nfpm.Info{
			Name:          PackageName,
			Arch:          "amd64",
			Platform:      "linux",
			Version:       o.Version,
			VersionSchema: "none",
			Release:       "1",
			Maintainer:    "ssm-setup test bench <bench@example.invalid>",
			Description:   "Stand-in for the Amazon SSM Agent (ssm-setup test bench)",
			Vendor:        "ssm-setup test bench",
			Homepage:      "https://github.com/aws/amazon-ssm-agent",
			License:       "Apache-2.0",
			MTime:         time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			Overridables: nfpm.Overridables{
				Contents: contents,
				Deb:      nfpm.Deb{Arch: "amd64"},
				RPM:      nfpm.RPM{Arch: "x86_64", Group: "Amazon/Tools", Summary: "Stand-in for the Amazon SSM Agent"},
			},
		}
	}

	deb := info(common(DebUnitPath))
	deb.Scripts = nfpm.Scripts{
		PreInstall:  write("deb-preinst", debPreinst, 0o755),
		PostInstall: write("postinst", postinst, 0o755),
		PreRemove:   write("deb-prerm", debPrerm, 0o755),
		PostRemove:  write("postrm", postrm, 0o755),
	}
	debPath = filepath.Join(o.Dir, fmt.Sprintf("%s_%s-1_amd64.deb", PackageName, o.Version))
	pack(t, "deb", deb, debPath)

	rpm := info(common(RPMUnitPath))
	rpm.Scripts = nfpm.Scripts{
		PreInstall:  write("rpm-pre", rpmPre, 0o755),
		PostInstall: write("postinst", postinst, 0o755),
		PreRemove:   write("rpm-preun", rpmPreun, 0o755),
		PostRemove:  write("postrm", postrm, 0o755),
	}
	rpmPath = filepath.Join(o.Dir, fmt.Sprintf("%s-%s-1.x86_64.rpm", PackageName, o.Version))
	pack(t, "rpm", rpm, rpmPath)
	return debPath, rpmPath
}

// pack writes one package of the given format to out.
func pack(t testing.TB, format string, info *nfpm.Info, out string) {
	t.Helper()
	info = nfpm.WithDefaults(info)
	if err := nfpm.PrepareForPackager(info, format); err != nil {
		t.Fatalf("bench: preparing the %s: %v", format, err)
	}
	p, err := nfpm.Get(format)
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	if err := p.Package(info, f); err != nil {
		f.Close()
		t.Fatalf("bench: building the %s: %v", format, err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("bench: %v", err)
	}
}
