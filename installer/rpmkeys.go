package installer

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ssm-setup/ssm-setup/installer/verify"
	"github.com/ssm-setup/ssm-setup/internal/run"
)

// rpmKeyDir holds AWS's public keys, one armored file each, for `rpm --import`.
const rpmKeyDir = "/var/lib/ssm-setup/rpm-keys"

// importKeyCmds writes AWS's signing keys into the root (one file per key: rpm imports
// only the first key of a file) and returns the `rpm --import` commands, so that
// `rpm -K` and the gpg checks of dnf, yum and zypper accept the agent package.
func (in *installer) importKeyCmds() []run.Cmd {
	blocks := splitArmoredBlocks(verify.AWSKeysArmored())
	var cmds []run.Cmd
	for i, b := range blocks {
		path := filepath.Join(rpmKeyDir, fmt.Sprintf("aws-ssm-agent-%d.asc", i+1))
		if !in.o.DryRun {
			host := in.o.Root.Path(path)
			if err := os.MkdirAll(filepath.Dir(host), 0o755); err == nil {
				if err := os.WriteFile(host, b, 0o644); err != nil {
					in.log.Warn("cannot write the AWS key for rpm", "path", host, "error", err)
					continue
				}
				in.written = append(in.written, path)
			}
		}
		cmds = append(cmds, in.pm.ImportKeyCmds(in.o.Root.Path(path))...)
	}
	return cmds
}

// splitArmoredBlocks splits a file of several armored key blocks into one slice each.
func splitArmoredBlocks(data []byte) [][]byte {
	const begin, end = "-----BEGIN PGP PUBLIC KEY BLOCK-----", "-----END PGP PUBLIC KEY BLOCK-----"
	var out [][]byte
	for {
		i := bytes.Index(data, []byte(begin))
		if i < 0 {
			return out
		}
		j := bytes.Index(data[i:], []byte(end))
		if j < 0 {
			return out
		}
		stop := i + j + len(end)
		out = append(out, append(bytes.TrimSpace(data[i:stop]), '\n'))
		data = data[stop:]
	}
}
