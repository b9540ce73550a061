package wsman

import (
	"bytes"
	"crypto/rc4"
	"errors"
	"testing"
)

// sessionPair returns the server's context and a client-side twin whose
// outgoing direction uses the client-to-server keys, so the twin's seal is
// what a real client sends.
func sessionPair(t *testing.T, flags uint32) (server, client *ntlmSession) {
	t.Helper()
	base := bytes.Repeat([]byte{0x55}, 16)
	m := &authenticateMessage{Flags: flags, EncryptedKey: bytes.Repeat([]byte{0xaa}, 16)}
	server, err := newNTLMSession(m, base)
	if err != nil || server == nil {
		t.Fatalf("got %v, %v; want a session", server, err)
	}
	mirror, _ := newNTLMSession(m, base)
	exported := base
	if flags&flagKeyExch != 0 {
		c, _ := rc4.NewCipher(base)
		exported = make([]byte, 16)
		c.XORKeyStream(exported, m.EncryptedKey)
	}
	mirror.serverSign = md5sum(exported, magicClientSign)
	mirror.serverSeal, _ = rc4.NewCipher(md5sum(exported, magicClientSeal))
	return server, mirror
}

func TestSealRoundTrip(t *testing.T) {
	for _, flags := range []uint32{
		flagSeal | flagExtendedSession | flag128 | flagKeyExch,
		flagSeal | flagExtendedSession | flag128,
	} {
		server, client := sessionPair(t, flags)
		for i, msg := range []string{"<s:Envelope>first</s:Envelope>", "second"} {
			got, err := server.openSealedBody(client.sealBody([]byte(msg)))
			if err != nil || string(got) != msg {
				t.Fatalf("flags %#x message %d: got %q, %v; want %q", flags, i, got, err, msg)
			}
		}
	}
}

func TestSealRefusesTamperingAndReplay(t *testing.T) {
	server, client := sessionPair(t, flagSeal|flagExtendedSession|flag128|flagKeyExch)
	sealed := client.sealBody([]byte("<s:Envelope/>"))
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-len(sealedBoundary)-6] ^= 1
	if _, err := server.openSealedBody(tampered); !errors.Is(err, errSealed) {
		t.Errorf("tampered: got %v; want errSealed", err)
	}

	server, client = sessionPair(t, flagSeal|flagExtendedSession|flag128|flagKeyExch)
	sealed = client.sealBody([]byte("<s:Envelope/>"))
	if _, err := server.openSealedBody(sealed); err != nil {
		t.Fatal(err)
	}
	if _, err := server.openSealedBody(sealed); !errors.Is(err, errSealed) {
		t.Errorf("replay: got %v; want errSealed", err)
	}
}

func TestNoSessionWithoutSeal(t *testing.T) {
	s, err := newNTLMSession(&authenticateMessage{Flags: flagExtendedSession | flag128},
		make([]byte, 16))
	if s != nil || err != nil {
		t.Errorf("got %v, %v; want no session for a client that did not ask to seal", s, err)
	}
}
