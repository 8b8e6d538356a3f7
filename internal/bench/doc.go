// Package bench is ssm-setup's real-system test bench: it builds a stand-in agent
// (testdata/fakeagent) and real deb and rpm packages around it, signs them with a test
// key, serves them from a local S3-like bucket, and boots a real Debian 12 root with
// systemd in systemd-nspawn, so tests can run ssm-setup against real dpkg, rpm and
// systemd.
//
// Only tests import this package; it must never be linked into the ssm-setup binary.
//
// The helpers that need no privileges (BuildAgent, BuildPackages, NewTestKey, Sign,
// BuildBucket, ServeBucket) work anywhere. DebianRoot and Boot change the host (mounts,
// containers, /var/cache/ssm-setup-bench) and call RequireSystem first: they skip the
// test unless SSM_SETUP_BENCH=1 is set, the test runs as root, and debootstrap,
// systemd-nspawn, nsenter and rpm are installed
// (`apt-get install debootstrap systemd-container rpm`).
//
// The harness needs Linux and root; on other systems the package is empty.
package bench
