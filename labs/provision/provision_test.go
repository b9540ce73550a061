package provision

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/svcharness/svcharness/labs"
)

func TestSysmonConfigIsWellFormed(t *testing.T) {
	data, err := os.ReadFile("sysmon-config.xml")
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	root := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("sysmon-config.xml: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
			if v := attrOf(se, "schemaversion"); v != "4.90" {
				t.Errorf("schemaversion %q; want 4.90 (Sysmon 15)", v)
			}
		}
	}
	if root != "Sysmon" {
		t.Errorf("root element %q; want Sysmon", root)
	}
}

func attrOf(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// TestSysmonConfigPassesLabCheck evaluates the configuration with the same
// rules "svcharness lab check" applies to a running host's.
func TestSysmonConfigPassesLabCheck(t *testing.T) {
	data, err := os.ReadFile("sysmon-config.xml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := labs.SysmonConfigFromXML(data)
	if err != nil {
		t.Fatal(err)
	}
	for check, missed := range labs.SysmonGaps(cfg) {
		t.Errorf("%s: the configuration drops:\n  %s", check, strings.Join(missed, "\n  "))
	}
	for _, ev := range []string{"ProcessCreate", "NetworkConnect", "RegistryEvent",
		"FileCreate", "PipeEvent"} {
		if len(cfg.Rules[ev]) == 0 {
			t.Errorf("no %s rules", ev)
		}
	}
}

func TestInventoryExampleLoads(t *testing.T) {
	t.Setenv("SVCHARNESS_LAB_USER", "labadmin")
	t.Setenv("SVCHARNESS_LAB_PASSWORD", "not-a-real-password")
	// The certificates exist once the VMs are provisioned; stand-ins let
	// the inventory validate here.
	dir := t.TempDir()
	data, err := os.ReadFile("inventory.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "inventory.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"WS01", "SRV01", "JUMP01", "MGMT01"} {
		if err := os.WriteFile(filepath.Join(dir, "out", h+".pem"), testPEM, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inv, err := labs.Load(filepath.Join(dir, "inventory.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"WS01": "attacker", "SRV01": "target", "JUMP01": "jump",
		"MGMT01": "mgmt"}
	for _, h := range inv.Hosts {
		if role := want[h.Name]; role == "" || h.Roles[0] != role || !h.Lab ||
			!strings.HasPrefix(h.Endpoint, "https://") {
			t.Errorf("host %s roles %v lab %v endpoint %s; want role %q, lab, https",
				h.Name, h.Roles, h.Lab, h.Endpoint, role)
		}
		delete(want, h.Name)
	}
	if len(want) > 0 {
		t.Errorf("hosts missing from the example inventory: %v", want)
	}
}

// TestAuditPolicyNamesTheSubcategoriesByGUID checks the GUIDs the script
// sets against the subcategories lab check reads (Windows' fixed GUIDs).
func TestAuditPolicyNamesTheSubcategoriesByGUID(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("scripts", "audit-policy.ps1"))
	if err != nil {
		t.Fatal(err)
	}
	for name, guid := range map[string]string{
		"Security System Extension": "{0CCE9211-69AE-11D9-BED3-505054503030}",
		"Detailed File Share":       "{0CCE9244-69AE-11D9-BED3-505054503030}",
		"Process Creation":          "{0CCE922B-69AE-11D9-BED3-505054503030}",
		"Logon":                     "{0CCE9215-69AE-11D9-BED3-505054503030}",
	} {
		if !strings.Contains(string(data), "'"+name+"'") ||
			!strings.Contains(string(data), "'"+guid+"'") {
			t.Errorf("audit-policy.ps1 does not set %s as %s", name, guid)
		}
	}
}

// TestScriptsLint is what can be checked of the PowerShell without
// PowerShell: ASCII only (Windows PowerShell 5.1 reads a file without a BOM
// in the ANSI code page), strict mode and stop-on-error, balanced brackets
// outside strings and comments, and no credential on a command line.
func TestScriptsLint(t *testing.T) {
	scripts, err := filepath.Glob(filepath.Join("scripts", "*.ps1"))
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, path := range scripts {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		src := string(data)
		for i, r := range src {
			if r > 0x7e || (r < 0x20 && r != '\n' && r != '\r' && r != '\t') {
				t.Errorf("%s: byte %d is %q; want ASCII", path, i, r)
				break
			}
		}
		for _, want := range []string{"Set-StrictMode -Version Latest",
			"$ErrorActionPreference = 'Stop'"} {
			if !strings.Contains(src, want) {
				t.Errorf("%s lacks %q", path, want)
			}
		}
		if err := balanced(src); err != nil {
			t.Errorf("%s: %v", path, err)
		}
		if strings.Contains(strings.ToLower(src), "-password '") {
			t.Errorf("%s passes a literal password", path)
		}
	}
}

// TestVagrantfileSyntax checks the Vagrantfile with Ruby's parser when Ruby
// is installed.
func TestVagrantfileSyntax(t *testing.T) {
	ruby, err := exec.LookPath("ruby")
	if err != nil {
		t.Skip("ruby not installed (apt-get install ruby): Vagrantfile not syntax-checked")
	}
	out, err := exec.Command(ruby, "-c", "Vagrantfile").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Syntax OK") {
		t.Errorf("ruby -c Vagrantfile: %v\n%s", err, out)
	}
}

// testPEM is a throwaway self-signed certificate standing in for a host's.
var testPEM = func() []byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now(),
		NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"srv01"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}()
