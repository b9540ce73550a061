package labs

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/goccy/go-yaml"
)

// Credential is a resolved user name and password. Its String, GoString and
// LogValue never show the password.
type Credential struct {
	User     string `yaml:"user"`
	Password string `yaml:"password"`
}

// String returns the user name with the password redacted.
func (c Credential) String() string { return c.User + ":<redacted>" }

// GoString is String for %#v.
func (c Credential) GoString() string {
	return "labs.Credential{User:" + c.User + ", Password:<redacted>}"
}

// LogValue keeps the password out of slog output.
func (c Credential) LogValue() slog.Value { return slog.StringValue(c.String()) }

// ErrCredentialFileMode reports a credential file readable by others.
var ErrCredentialFileMode = errors.New("credential file must have mode 0600")

// checkCredentialFile requires a regular file that only its owner can read.
func checkCredentialFile(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", path)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s has mode %#o: %w", path, st.Mode().Perm(), ErrCredentialFileMode)
	}
	return nil
}

// Credential resolves the credential host h refers to, from its file or
// environment variables.
func (inv *Inventory) Credential(h *Host) (Credential, error) {
	ref, ok := inv.Credentials[h.Credentials]
	if !ok {
		return Credential{}, fmt.Errorf("resolve credentials of %s: %q not defined", h.Name,
			h.Credentials)
	}
	if ref.File != "" {
		c, err := ReadCredentialFile(inv.Path(ref.File))
		if err != nil {
			return Credential{}, fmt.Errorf("resolve credentials of %s: %w", h.Name, err)
		}
		return c, nil
	}
	c := Credential{User: os.Getenv(ref.UserEnv), Password: os.Getenv(ref.PasswordEnv)}
	if c.User == "" || c.Password == "" {
		return Credential{}, fmt.Errorf("resolve credentials of %s: %s or %s is empty", h.Name,
			ref.UserEnv, ref.PasswordEnv)
	}
	return c, nil
}

// ReadCredentialFile reads a credential file, refusing one that others can
// read.
func ReadCredentialFile(path string) (Credential, error) {
	if err := checkCredentialFile(path); err != nil {
		return Credential{}, fmt.Errorf("read credential file: %w", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Credential{}, fmt.Errorf("read credential file: %w", err)
	}
	var c Credential
	if err := yaml.UnmarshalWithOptions(b, &c, yaml.DisallowUnknownField()); err != nil {
		// The decoder's message quotes the source; keep it out in case it
		// holds the password.
		return Credential{}, fmt.Errorf("decode credential file %s: malformed", path)
	}
	if c.User == "" || c.Password == "" {
		return Credential{}, fmt.Errorf("decode credential file %s: user and password required", path)
	}
	return c, nil
}

// WriteCredentialFile writes c to path with mode 0600, replacing any file.
func WriteCredentialFile(path string, c Credential) error {
	b, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode credential file: %w", err)
	}
	tmp := path + ".tmp"
	_ = os.Remove(tmp) // left by a crash; O_EXCL below refuses to follow a planted link
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write credential file: %w", err)
	}
	_, werr := f.Write(b)
	if err := errors.Join(werr, f.Close()); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write credential file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write credential file: %w", err)
	}
	return nil
}
