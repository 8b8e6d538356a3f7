# Developer shortcuts. The README's two commands work without make; these are extras.
# Top-level Makefile: the issue tracker asks for `make e2e` to run the real-system bench.

.PHONY: build test e2e

build:
	go build -o bin/ssm-setup ./cmd/ssm-setup

test:
	go test ./...

# The real-system bench: real dpkg, rpm and systemd in a debootstrapped Debian 12 root
# booted with systemd-nspawn. Needs root, debootstrap, systemd-container and rpm.
e2e:
	SSM_SETUP_BENCH=1 go test -count=1 -timeout 20m -v ./internal/bench/...
