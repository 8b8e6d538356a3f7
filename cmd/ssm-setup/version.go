package main

import (
	"runtime"

	"github.com/spf13/cobra"
)

// Set by the linker: -ldflags "-X main.version=... -X main.commit=... -X main.date=...".
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

type versionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

func newVersionCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print ssm-setup's version",
		Long:  "Print the version, commit and build date of ssm-setup and the Go version it was built with.",
		Example: `  ssm-setup version
  ssm-setup version --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := versionInfo{Version: version, Commit: commit, Date: date, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
			return f.Print(info, func(p *textPrinter) {
				p.Linef("ssm-setup %s (commit %s, built %s, %s, %s)", info.Version, info.Commit, info.Date, info.GoVersion, info.Platform)
			})
		},
	}
}
