// Package installer installs, upgrades and downgrades the SSM Agent: it resolves the
// release, fetches and verifies the package (or verifies a given one), plans the package
// and service manager commands, runs them, checks the agent's health, rolls back a bad
// upgrade, and records what it did. Sub-packages hold the parts: release (sources,
// versions, download, cache), verify (OpenPGP and SHA-256), pkgmgr and service (the
// distro's tools), lock, state, fsutil and proxy.
package installer
