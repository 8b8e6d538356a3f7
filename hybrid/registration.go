package hybrid

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"unicode"

	"github.com/ssm-setup/ssm-setup/internal/fail"
	"github.com/ssm-setup/ssm-setup/internal/sysroot"
)

// The agent's registration state, inside the root (facts, section 5). A registration
// is all three: the registration file, the Vault (private key) and the runtime identity
// config. Backups and restores always treat them together.
const (
	RegistrationFile = "/var/lib/amazon/ssm/registration"
	VaultDir         = "/var/lib/amazon/ssm/Vault"
	RuntimeConfigDir = "/var/lib/amazon/ssm/runtimeconfig"
)

// registrationPaths are the paths a registration consists of, in backup order.
var registrationPaths = []string{RegistrationFile, VaultDir, RuntimeConfigDir}

// Agent binaries (facts, section 3).
const (
	AgentBinary     = "/usr/bin/amazon-ssm-agent"
	SnapAgentBinary = "/snap/amazon-ssm-agent/current/amazon-ssm-agent"
)

// AgentBinaryFor is the agent binary of an agent installed via ("deb", "rpm", "snap", ...).
func AgentBinaryFor(via string) string {
	if via == "snap" {
		return SnapAgentBinary
	}
	return AgentBinary
}

// Registration types reported by RegistrationStatus.
const (
	TypeEC2    = "ec2"
	TypeHybrid = "hybrid"
	TypeNone   = "none"
)

// Registration is the identity the agent has on this machine.
type Registration struct {
	Type              string `json:"type"` // ec2, hybrid or none
	ManagedInstanceID string `json:"managed_instance_id"`
	Region            string `json:"region"`
}

// registrationFile is the JSON shape of RegistrationFile.
type registrationFile struct {
	ManagedInstanceID string `json:"ManagedInstanceID"`
	Region            string `json:"Region"`
}

// readRegistration reads the agent's registration file of root. ok is false when there
// is none; a file that exists but does not parse, or holds no mi- id, is an error.
func readRegistration(root sysroot.Root) (reg registrationFile, ok bool, err error) {
	path := root.Path(RegistrationFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return registrationFile{}, false, nil
	}
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return registrationFile{}, false, fail.WithHint(fail.New(fail.NeedRoot, "read the registration %s: %w", path, err), "re-run as root")
		}
		return registrationFile{}, false, fail.New(fail.Registration, "read the registration %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &reg); err != nil {
		return registrationFile{}, false, fail.New(fail.Registration, "registration %s does not parse: %w", path, err)
	}
	if !managedIDRE.MatchString(reg.ManagedInstanceID) {
		return registrationFile{}, false, fail.New(fail.Registration, "registration %s holds %q, not a managed node id (mi- and 17 hex digits)", path, reg.ManagedInstanceID)
	}
	return reg, true, nil
}

// RegistrationStatus says how the agent on root identifies itself: "hybrid" when the
// agent holds a hybrid registration (it wins over EC2: the agent's default
// Identity.ConsumptionOrder tries OnPrem first), "ec2" when ec2 is non-nil (the
// instance id and region from instance metadata), else "none". An unreadable
// registration file counts as none.
func RegistrationStatus(root sysroot.Root, ec2 *EC2Instance) Registration {
	if reg, ok, err := readRegistration(root); err == nil && ok {
		return Registration{Type: TypeHybrid, ManagedInstanceID: reg.ManagedInstanceID, Region: reg.Region}
	}
	if ec2 != nil {
		return Registration{Type: TypeEC2, ManagedInstanceID: ec2.InstanceID, Region: ec2.Region}
	}
	return Registration{Type: TypeNone}
}

// ActivationCodeEnv is the environment variable the activation code may come from.
const ActivationCodeEnv = "SSM_ACTIVATION_CODE"

// maxCodeBytes bounds what is read for a code: codes are 20 characters.
const maxCodeBytes = 4 << 10

// codeSourcesHint names the safe ways to pass an activation code.
const codeSourcesHint = "pass the code with exactly one of --activation-code-file FILE, --activation-code-stdin, or the environment variable " + ActivationCodeEnv

// ReadActivationCode reads the activation code from exactly one source: the file, stdin
// (when useStdin) or the environment variable SSM_ACTIVATION_CODE, read through getenv.
// The code is trimmed; an empty code, or one with spaces inside, is a fail.Usage error.
// No error ever contains the code.
func ReadActivationCode(file string, stdin io.Reader, useStdin bool, getenv func(string) string) (string, error) {
	env := ""
	if getenv != nil {
		env = getenv(ActivationCodeEnv)
	}
	var sources []string
	if file != "" {
		sources = append(sources, "--activation-code-file")
	}
	if useStdin {
		sources = append(sources, "--activation-code-stdin")
	}
	if env != "" {
		sources = append(sources, ActivationCodeEnv)
	}
	switch len(sources) {
	case 0:
		return "", fail.WithHint(fail.Usagef("activation code required"), codeSourcesHint)
	case 1:
	default:
		return "", fail.WithHint(fail.Usagef("activation code given %d ways (%s): want exactly one", len(sources), strings.Join(sources, ", ")), codeSourcesHint)
	}
	var raw string
	from := sources[0]
	switch {
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return "", fail.Usagef("read the activation code file: %w", err)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxCodeBytes+1))
		if err != nil {
			return "", fail.Usagef("read the activation code file %s: %w", file, err)
		}
		if len(b) > maxCodeBytes {
			return "", fail.Usagef("activation code file %s is larger than %d bytes: want the code alone", file, maxCodeBytes)
		}
		raw, from = string(b), "file "+file
	case useStdin:
		if stdin == nil {
			return "", fail.Usagef("--activation-code-stdin: no standard input")
		}
		b, err := io.ReadAll(io.LimitReader(stdin, maxCodeBytes+1))
		if err != nil {
			return "", fail.Usagef("read the activation code from standard input: %w", err)
		}
		if len(b) > maxCodeBytes {
			return "", fail.Usagef("standard input is larger than %d bytes: want the activation code alone", maxCodeBytes)
		}
		raw, from = string(b), "standard input"
	default:
		raw = env
	}
	code := strings.TrimSpace(raw)
	if code == "" {
		return "", fail.WithHint(fail.Usagef("activation code from %s is empty", from), codeSourcesHint)
	}
	if strings.IndexFunc(code, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "", fail.Usagef("activation code from %s has spaces or line breaks inside: want the code alone, on one line", from)
	}
	return code, nil
}

// maskedError hides a secret in an error's text while keeping its chain for errors.Is
// and errors.As, so a failed command's output can be wrapped with %w safely.
type maskedError struct {
	err    error
	secret string
}

func (e *maskedError) Error() string {
	msg := e.err.Error()
	if e.secret != "" {
		msg = strings.ReplaceAll(msg, e.secret, "***")
	}
	return msg
}

func (e *maskedError) Unwrap() error { return e.err }

// mask wraps err so its text never shows secret.
func mask(err error, secret string) error {
	if err == nil {
		return nil
	}
	return &maskedError{err: err, secret: secret}
}

// describe names a registration for messages.
func (r registrationFile) describe() string {
	return fmt.Sprintf("%s in %s", r.ManagedInstanceID, r.Region)
}
