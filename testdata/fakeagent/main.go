// Command fakeagent is a stand-in for /usr/bin/amazon-ssm-agent used by ssm-setup's
// real-system test bench (internal/bench). It copies the parts of the real agent that
// ssm-setup depends on, and nothing that needs AWS:
//
//   - `-version` prints "SSM Agent version: X" (X is set at build time with
//     -ldflags "-X main.version=3.3.100.0").
//   - Without flags it runs as the daemon: it appends to the agent log, records its
//     environment and pid under /var/lib/amazon/ssm/, creates ssm-user with `useradd -m`
//     when missing and only then writes /etc/sudoers.d/ssm-agent-users (mode 0440), and
//     runs until SIGTERM. It exits 1 at once when /etc/amazon/ssm/fakeagent-fail or
//     /etc/amazon/ssm/fakeagent-fail-VERSION (its own version) exists, so a broken
//     release or upgrade can be simulated.
//   - `-register -code C -id I -region R [-y]` wipes the stored registration first when
//     -y is given (as the real agent does, before it calls AWS), then validates the
//     activation: the id must be a UUID, code "expired" fails with ActivationExpired and
//     code "invalid" with InvalidActivation. Otherwise it writes the registration file,
//     the Vault and the runtime identity config with a node id derived from id and code.
//   - `-clear` removes the stored registration.
//
// Every path is taken relative to $SSM_FAKEAGENT_ROOT (default "/"), so the logic can be
// unit tested on a temporary directory.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"
)

// version is the agent version this binary claims to be; set with -ldflags -X.
var version = "3.3.0.0"

// Paths used by the real agent (see /work/shared/reference/ssm-agent-facts.md, 3 and 5),
// relative to the root. fakeagent-* files are the stand-in's own additions.
const (
	logFile          = "var/log/amazon/ssm/amazon-ssm-agent.log"
	stateDir         = "var/lib/amazon/ssm"
	registrationFile = "var/lib/amazon/ssm/registration"
	vaultDir         = "var/lib/amazon/ssm/Vault"
	vaultManifest    = "var/lib/amazon/ssm/Vault/Manifest"
	vaultKey         = "var/lib/amazon/ssm/Vault/Store/RegistrationKey"
	runtimeConfigDir = "var/lib/amazon/ssm/runtimeconfig"
	identityConfig   = "var/lib/amazon/ssm/runtimeconfig/identity_config.json"
	envFile          = "var/lib/amazon/ssm/fakeagent-env"
	pidFile          = "var/lib/amazon/ssm/fakeagent-pid"
	failFile         = "etc/amazon/ssm/fakeagent-fail"
	passwdFile       = "etc/passwd"
	sudoersFile      = "etc/sudoers.d/ssm-agent-users"
	ssmUser          = "ssm-user"
	sudoersRule      = "ssm-user ALL=(ALL) NOPASSWD:ALL\n"
)

// uuidRE matches an activation id.
var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// agent holds the root the stand-in works on and where it reports.
type agent struct {
	root   string
	stdout io.Writer
	stderr io.Writer
}

// path maps a root-relative path onto the agent's root.
func (a agent) path(rel string) string { return filepath.Join(a.root, rel) }

// run parses args and runs one mode; it returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("amazon-ssm-agent", flag.ContinueOnError)
	fl.SetOutput(stderr)
	showVersion := fl.Bool("version", false, "print the agent version")
	register := fl.Bool("register", false, "register the node with an activation")
	code := fl.String("code", "", "activation code")
	id := fl.String("id", "", "activation id")
	region := fl.String("region", "", "region")
	yes := fl.Bool("y", false, "override an existing registration")
	clear := fl.Bool("clear", false, "clear the stored registration")
	if err := fl.Parse(args); err != nil {
		return 1
	}
	root := os.Getenv("SSM_FAKEAGENT_ROOT")
	if root == "" {
		root = "/"
	}
	a := agent{root: root, stdout: stdout, stderr: stderr}
	switch {
	case *showVersion:
		fmt.Fprintf(stdout, "SSM Agent version: %s\n", version)
		return 0
	case *register:
		return a.register(*code, *id, *region, *yes)
	case *clear:
		if err := a.clearRegistration(); err != nil {
			fmt.Fprintf(stderr, "error clearing the registration: %v\n", err)
			return 1
		}
		fmt.Fprintln(stdout, "Registration data cleared")
		return 0
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	return a.daemon(stop)
}

// logf appends one line to the agent log; failures go to stderr (the journal).
func (a agent) logf(format string, args ...any) {
	line := fmt.Sprintf("%s INFO [fakeagent %s] %s\n", time.Now().UTC().Format("2006-01-02 15:04:05"), version, fmt.Sprintf(format, args...))
	fmt.Fprint(a.stderr, line)
	p := a.path(logFile)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		fmt.Fprintf(a.stderr, "cannot create log dir: %v\n", err)
		return
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintf(a.stderr, "cannot open log: %v\n", err)
		return
	}
	defer f.Close()
	if _, err := f.WriteString(line); err != nil {
		fmt.Fprintf(a.stderr, "cannot write log: %v\n", err)
	}
}

// daemon is the service mode. It returns when stop delivers a signal, or at once with 1
// when a fail marker exists.
func (a agent) daemon(stop <-chan os.Signal) int {
	a.logf("amazon-ssm-agent (fake) starting, pid %d", os.Getpid())
	if err := a.writeState(); err != nil {
		a.logf("error: cannot record state: %v", err)
		return 1
	}
	for _, marker := range []string{failFile, failFile + "-" + version} {
		if _, err := os.Stat(a.path(marker)); err == nil {
			a.logf("error: /%s exists, failing on purpose", marker)
			return 1
		}
	}
	if reg, err := a.readRegistration(); err == nil {
		a.logf("registered as %s in %s", reg.ManagedInstanceID, reg.Region)
	} else {
		a.logf("not registered: %v", err)
	}
	if err := a.ensureSSMUser(); err != nil {
		a.logf("error: %v", err)
	}
	a.logf("running")
	sig := <-stop
	a.logf("stopping on %v", sig)
	return 0
}

// writeState records the environment (sorted KEY=VALUE lines) and the pid.
func (a agent) writeState() error {
	if err := os.MkdirAll(a.path(stateDir), 0o755); err != nil {
		return err
	}
	env := os.Environ()
	sort.Strings(env)
	if err := writeFile(a.path(envFile), []byte(strings.Join(env, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	return writeFile(a.path(pidFile), []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644)
}

// hasUser reports whether /etc/passwd lists name.
func (a agent) hasUser(name string) (bool, error) {
	b, err := os.ReadFile(a.path(passwdFile))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, name+":") {
			return true, nil
		}
	}
	return false, nil
}

// ensureSSMUser creates ssm-user like the real agent: only when the user does not exist,
// and only then writes the sudoers rule (facts, section 6).
func (a agent) ensureSSMUser() error {
	ok, err := a.hasUser(ssmUser)
	if err != nil {
		return fmt.Errorf("reading /etc/passwd: %w", err)
	}
	if ok {
		a.logf("%s already exists, leaving sudoers alone", ssmUser)
		return nil
	}
	args := []string{"-m", ssmUser}
	if filepath.Clean(a.root) != "/" {
		args = append([]string{"--root", a.root}, args...)
	}
	out, err := exec.Command("useradd", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("useradd %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	a.logf("created %s", ssmUser)
	if err := os.MkdirAll(filepath.Dir(a.path(sudoersFile)), 0o750); err != nil {
		return err
	}
	if err := writeFile(a.path(sudoersFile), []byte(sudoersRule), 0o440); err != nil {
		return fmt.Errorf("writing sudoers: %w", err)
	}
	a.logf("wrote /%s", sudoersFile)
	return nil
}

// registration is the shape of /var/lib/amazon/ssm/registration.
type registration struct {
	ManagedInstanceID string `json:"ManagedInstanceID"`
	Region            string `json:"Region"`
}

// readRegistration reads the stored registration.
func (a agent) readRegistration() (registration, error) {
	var r registration
	b, err := os.ReadFile(a.path(registrationFile))
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("parsing %s: %w", registrationFile, err)
	}
	return r, nil
}

// clearRegistration removes the registration file, the Vault and the runtime config.
func (a agent) clearRegistration() error {
	var errs []error
	for _, p := range []string{registrationFile, vaultDir, runtimeConfigDir} {
		if err := os.RemoveAll(a.path(p)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// instanceID derives a node id the way the bench expects it: mi- and the first 17 hex
// digits of SHA-256(id "\n" code), so a test can predict it.
func instanceID(id, code string) string {
	sum := sha256.Sum256([]byte(id + "\n" + code))
	return "mi-" + hex.EncodeToString(sum[:])[:17]
}

// register is the -register mode.
func (a agent) register(code, id, region string, yes bool) int {
	if _, err := os.Stat(a.path(registrationFile)); err == nil && !yes {
		fmt.Fprintln(a.stdout, "Instance already registered. Would you like to override existing with new registration information? [Yes/No]")
		fmt.Fprintln(a.stderr, "Registration cancelled: the instance is already registered; pass -y to override")
		return 1
	}
	if yes {
		// The real agent wipes the stored registration before it calls AWS, so a
		// failed re-registration leaves the node unregistered (facts, section 5).
		if err := a.clearRegistration(); err != nil {
			fmt.Fprintf(a.stderr, "error clearing the old registration: %v\n", err)
			return 1
		}
	}
	switch {
	case code == "" || id == "" || region == "":
		fmt.Fprintln(a.stderr, "Registration failed: -code, -id and -region are required")
		return 1
	case !uuidRE.MatchString(id):
		fmt.Fprintf(a.stderr, "Registration failed due to error registering the instance with AWS SSM. ValidationException: Activation ID %q is not a valid UUID\n", id)
		return 1
	case code == "expired":
		fmt.Fprintf(a.stderr, "Registration failed due to error registering the instance with AWS SSM. ActivationExpired: Activation %s has expired\n", id)
		return 1
	case code == "invalid":
		fmt.Fprintf(a.stderr, "Registration failed due to error registering the instance with AWS SSM. InvalidActivation: Activation %s is not valid\n", id)
		return 1
	}
	mi := instanceID(id, code)
	if err := a.writeRegistration(mi, region); err != nil {
		fmt.Fprintf(a.stderr, "Registration failed: %v\n", err)
		return 1
	}
	fmt.Fprintf(a.stdout, "Successfully registered the instance with AWS SSM using Managed instance-id: %s\n", mi)
	return 0
}

// writeRegistration writes every file a successful registration leaves behind.
func (a agent) writeRegistration(mi, region string) error {
	reg, err := json.Marshal(registration{ManagedInstanceID: mi, Region: region})
	if err != nil {
		return err
	}
	key, err := json.Marshal(map[string]string{
		"instanceID":     mi,
		"region":         region,
		"privateKey":     "fake-private-key",
		"privateKeyType": "Rsa",
	})
	if err != nil {
		return err
	}
	manifest, err := json.Marshal(map[string]string{"RegistrationKey": "Store/RegistrationKey"})
	if err != nil {
		return err
	}
	ident, err := json.Marshal(map[string]string{
		"InstanceId":       mi,
		"Region":           region,
		"IdentityType":     "OnPrem",
		"ShareFile":        "",
		"CredentialSource": "SSM",
	})
	if err != nil {
		return err
	}
	files := []struct {
		rel  string
		data []byte
		mode os.FileMode
	}{
		{vaultKey, key, 0o600},
		{vaultManifest, manifest, 0o600},
		{identityConfig, ident, 0o600},
		{registrationFile, reg, 0o600},
	}
	for _, f := range files {
		if err := os.MkdirAll(filepath.Dir(a.path(f.rel)), 0o700); err != nil {
			return err
		}
		if err := writeFile(a.path(f.rel), f.data, f.mode); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes data atomically with mode perm.
func writeFile(name string, data []byte, perm os.FileMode) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	if err := os.Chmod(tmp, perm); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}
