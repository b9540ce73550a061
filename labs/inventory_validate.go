package labs

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// validate checks the decoded inventory, recording every problem.
func (v *validator) validate(inv *Inventory) {
	if inv.Version != Version {
		v.add("version", "version %d; want %d", inv.Version, Version)
	}
	if len(inv.Hosts) == 0 {
		v.add("hosts", "no hosts")
	}
	for _, name := range slices.Sorted(maps.Keys(inv.Credentials)) {
		v.validateCredential(inv, "credentials."+name, inv.Credentials[name])
	}
	seen := map[string]int{}
	for i := range inv.Hosts {
		path := fmt.Sprintf("hosts[%d]", i)
		h := &inv.Hosts[i]
		if prev, dup := seen[strings.ToLower(h.Name)]; dup && h.Name != "" {
			v.add(path+".name", "host %q already defined at hosts[%d]", h.Name, prev)
		}
		seen[strings.ToLower(h.Name)] = i
		v.validateHost(inv, path, h)
	}
	if inv.CAFile != "" {
		v.checkReadable("ca_file", inv.Path(inv.CAFile))
	}
}

func (v *validator) validateHost(inv *Inventory, path string, h *Host) {
	if h.Name == "" {
		v.add(path, "host without a name")
	}
	if h.Endpoint == "" {
		v.add(path, "no endpoint")
	} else if err := checkEndpoint(h.Endpoint); err != nil {
		v.add(path+".endpoint", "endpoint %q: %v", h.Endpoint, err)
	}
	if h.Auth != AuthBasic && h.Auth != AuthNTLM {
		v.add(path+".auth", "auth %q; want basic or ntlm", h.Auth)
	}
	if _, ok := inv.Credentials[h.Credentials]; !ok {
		v.add(path+".credentials", "credentials %q not defined under credentials", h.Credentials)
	}
	if h.TLS.CAFile != "" {
		v.checkReadable(path+".tls.ca_file", inv.Path(h.TLS.CAFile))
	}
	if h.TLS.InsecureSkipVerify && h.TLS.CAFile != "" {
		v.add(path+".tls", "both ca_file and insecure_skip_verify; choose one")
	}
	for j, s := range h.Sensors {
		if !validSensor(s) {
			v.add(fmt.Sprintf("%s.sensors[%d]", path, j), "unknown sensor %q", s)
		}
	}
}

func (v *validator) validateCredential(inv *Inventory, path string, ref CredentialRef) {
	hasFile, hasEnv := ref.File != "", ref.UserEnv != "" || ref.PasswordEnv != ""
	switch {
	case hasFile && hasEnv:
		v.add(path, "both file and environment variables; choose one")
	case !hasFile && !hasEnv:
		v.add(path, "neither file nor user_env/password_env")
	case hasEnv && (ref.UserEnv == "" || ref.PasswordEnv == ""):
		v.add(path, "user_env and password_env must both be set")
	case hasFile:
		if err := checkCredentialFile(inv.Path(ref.File)); err != nil {
			v.add(path+".file", "%v", err)
		}
	}
}

func (v *validator) checkReadable(path, file string) {
	if _, err := os.Stat(file); err != nil {
		v.add(path, "%v", err)
	}
}
