package emulate

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/svcharness/svcharness/scenarios"
)

func newTestClient(t *testing.T, tgt Target, log *slog.Logger) *Client {
	t.Helper()
	c, err := NewClient(tgt, Options{Logger: log, OperationTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRunReturnsOutputAndExitCode(t *testing.T) {
	f := newFake(t)
	f.exitCode = 1060
	c := newTestClient(t, f.target(), nil)
	res, err := c.Run(context.Background(), scenarios.Cmd, "sc.exe query nosuch")
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Stdout != "hello\r\n" || res.ExitCode != 1060 {
		t.Errorf("got stdout %q exit %d; want %q 1060", res.Stdout, res.ExitCode, "hello\r\n")
	}
	if got := f.lastCommand(); got != "sc.exe query nosuch" {
		t.Errorf("server got command %q; want it verbatim", got)
	}
	if f.count("Delete") != 1 || f.count("Signal") != 1 {
		t.Errorf("got %d Delete, %d Signal; want the shell closed once",
			f.count("Delete"), f.count("Signal"))
	}
}

func TestRunPowerShellIsEncoded(t *testing.T) {
	f := newFake(t)
	c := newTestClient(t, f.target(), nil)
	if _, err := c.Run(context.Background(), scenarios.PowerShell, "Get-Service"); err != nil {
		t.Fatal(err)
	}
	if got := f.lastCommand(); !strings.HasPrefix(got, "powershell.exe -EncodedCommand ") {
		t.Errorf("got command %q; want an encoded PowerShell command", got)
	}
}

// TestFaultsBecomeTypedErrors injects a WS-Management fault on each
// operation in turn; every one must surface as a *FaultError naming the
// operation, and the shell must still be deleted once it exists.
func TestFaultsBecomeTypedErrors(t *testing.T) {
	for _, tc := range []struct {
		op, file   string
		wantDelete int
		isAuth     bool
	}{
		{"Create", "access-denied.xml", 0, true},
		{"Command", "internal-error.xml", 1, false},
		{"Receive", "shell-not-found.xml", 1, false},
		{"Create", "quota.xml", 0, false},
	} {
		t.Run(tc.op+"/"+tc.file, func(t *testing.T) {
			f := newFake(t)
			f.fault[tc.op] = tc.file
			c := newTestClient(t, f.target(), nil)
			_, err := c.Run(context.Background(), scenarios.Cmd, "hostname")
			var fe *FaultError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v (%T); want a *FaultError", err, err)
			}
			if fe.Op != tc.op || fe.HTTPStatus != 500 || fe.Host != "WS01" {
				t.Errorf("got op %q status %d host %q; want %q 500 WS01",
					fe.Op, fe.HTTPStatus, fe.Host, tc.op)
			}
			if !errors.Is(err, ErrEmulation) || errors.Is(err, ErrAuth) != tc.isAuth {
				t.Errorf("got Is(ErrEmulation)=%v Is(ErrAuth)=%v; want true %v",
					errors.Is(err, ErrEmulation), errors.Is(err, ErrAuth), tc.isAuth)
			}
			if got := f.count("Delete"); got != tc.wantDelete {
				t.Errorf("got %d Delete requests; want %d", got, tc.wantDelete)
			}
			if got := f.count("Receive"); got > 1 {
				t.Errorf("got %d Receive requests; want no polling after a fault", got)
			}
		})
	}
}

func TestReceiveOperationTimeoutIsPolledAgain(t *testing.T) {
	f := newFake(t)
	f.timeouts = 2
	c := newTestClient(t, f.target(), nil)
	res, err := c.Run(context.Background(), scenarios.Cmd, "timeout /t 60")
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Stdout != "hello\r\n" || f.count("Receive") != 3 {
		t.Errorf("got stdout %q after %d Receives; want output after 3",
			res.Stdout, f.count("Receive"))
	}
}

func TestCreateWithoutShellIDIsAProtocolError(t *testing.T) {
	f := newFake(t)
	f.noShellID = true
	c := newTestClient(t, f.target(), nil)
	_, err := c.Run(context.Background(), scenarios.Cmd, "hostname")
	if !errors.Is(err, ErrProtocol) {
		t.Errorf("got %v; want ErrProtocol", err)
	}
	if f.count("Command") != 0 {
		t.Error("a command was sent into a shell with no ID")
	}
}

func TestWrongPasswordIsErrAuth(t *testing.T) {
	f := newFake(t)
	tgt := f.target()
	tgt.Password = "wrong"
	_, err := newTestClient(t, tgt, nil).Run(context.Background(), scenarios.Cmd, "hostname")
	if !errors.Is(err, ErrAuth) || !errors.Is(err, ErrEmulation) {
		t.Errorf("got %v; want ErrAuth and ErrEmulation", err)
	}
}

func TestClosedPortIsErrUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	tgt := Target{Name: "GONE", Endpoint: "http://" + addr + "/wsman", Auth: AuthBasic}
	_, err = newTestClient(t, tgt, nil).Run(context.Background(), scenarios.Cmd, "hostname")
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("got %v; want ErrUnreachable", err)
	}
}

func TestDroppedConnectionIsErrDisconnected(t *testing.T) {
	f := newFake(t)
	f.drop = "Command"
	_, err := newTestClient(t, f.target(), nil).Run(context.Background(), scenarios.Cmd, "x")
	if !errors.Is(err, ErrDisconnected) {
		t.Errorf("got %v; want ErrDisconnected", err)
	}
}

// TestDeadlineStillClosesTheShell holds Receive until the call's deadline;
// the error must be ErrTimeout and the command must still be signalled and
// its shell deleted, under the cleanup grace period.
func TestDeadlineStillClosesTheShell(t *testing.T) {
	f := newFake(t)
	f.hang = "Receive"
	c := newTestClient(t, f.target(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := c.Run(ctx, scenarios.Cmd, "ping -t 127.0.0.1")
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, ErrEmulation) {
		t.Errorf("got %v; want ErrTimeout", err)
	}
	if f.count("Signal") < 1 || f.count("Delete") != 1 {
		t.Errorf("got %d Signal, %d Delete; want the command stopped and the shell deleted",
			f.count("Signal"), f.count("Delete"))
	}
}

func TestInterruptIsErrInterrupted(t *testing.T) {
	f := newFake(t)
	f.hang = "Receive"
	c := newTestClient(t, f.target(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for f.count("Receive") == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := c.Run(ctx, scenarios.Cmd, "ping -t 127.0.0.1")
	if !errors.Is(err, ErrInterrupted) {
		t.Errorf("got %v; want ErrInterrupted", err)
	}
	if f.count("Delete") != 1 {
		t.Errorf("got %d Delete; want the shell deleted after the interrupt", f.count("Delete"))
	}
}

func TestTLSIsVerified(t *testing.T) {
	f := newFake(t)
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	tgt := f.target()
	tgt.Endpoint = tlsSrv.URL + "/wsman"

	_, err := newTestClient(t, tgt, nil).Run(context.Background(), scenarios.Cmd, "hostname")
	if !errors.Is(err, ErrTLS) {
		t.Errorf("without the CA: got %v; want ErrTLS", err)
	}

	tgt.CACert = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE",
		Bytes: tlsSrv.Certificate().Raw})
	if _, err := newTestClient(t, tgt, nil).Run(context.Background(), scenarios.Cmd,
		"hostname"); err != nil {
		t.Errorf("with the CA: %v", err)
	}
}

// TestCredentialsNeverLogged runs a success and a failure with debug
// logging on and checks that the password appears in no log line, error or
// formatted target.
func TestCredentialsNeverLogged(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newFake(t)
	tgt := f.target()
	c := newTestClient(t, tgt, log)
	if _, err := c.Run(context.Background(), scenarios.Cmd, "hostname"); err != nil {
		t.Fatal(err)
	}
	f.fault["Command"] = "internal-error.xml"
	_, err := c.Run(context.Background(), scenarios.Cmd, "hostname")
	log.Info("target", "target", tgt)
	for what, s := range map[string]string{
		"logs": logs.String(), "error": err.Error(), "String": tgt.String(),
	} {
		if strings.Contains(s, f.pass) {
			t.Errorf("%s contain the password: %s", what, s)
		}
	}
	if !strings.Contains(logs.String(), `"op":"Create"`) {
		t.Errorf("debug logs lack the exchanges: %s", logs.String())
	}
}

func TestNewClientRejectsBadTargets(t *testing.T) {
	for _, tgt := range []Target{
		{Name: "a", Endpoint: "ftp://x/wsman", Auth: AuthBasic},
		{Name: "b", Endpoint: "http://x:5985/other", Auth: AuthBasic},
		{Name: "c", Endpoint: "http://x:5985/wsman", Auth: "kerberos"},
		{Name: "d", Endpoint: "https://x:5986/wsman", Auth: AuthNTLM, CACert: []byte("junk")},
	} {
		if _, err := NewClient(tgt, Options{}); err == nil {
			t.Errorf("NewClient(%s) succeeded; want an error", tgt)
		}
	}
}

func TestOutputIsCapped(t *testing.T) {
	f := newFake(t)
	f.stdout = strings.Repeat("x", 1000)
	c, err := NewClient(f.target(), Options{MaxOutput: 100})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Run(context.Background(), scenarios.Cmd, "type big.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stdout) != 100 || !res.Truncated {
		t.Errorf("got %d bytes, truncated=%v; want 100, true", len(res.Stdout), res.Truncated)
	}
}
