package wsman

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNTOWFv2 checks the key derivation against MS-NLMP 4.2.4.1.1: user
// "User", domain "Domain", password "Password".
func TestNTOWFv2(t *testing.T) {
	got := ntowfv2("Password", "User", "Domain")
	want := unhex(t, "0c868a403bfd7a93a3001ef22ef02e3f")
	if !bytes.Equal(got, want) {
		t.Errorf("got %x; want %x", got, want)
	}
}

// msnlmpResponse is the NTLMv2 response of MS-NLMP 4.2.4.2.2: NTProofStr,
// then the blob built from the client challenge aa…aa, timestamp 0 and the
// AV pairs Domain/Server.
func msnlmpResponse(t testing.TB) []byte {
	t.Helper()
	avs := []byte{}
	add := func(id uint16, v []byte) {
		avs = binary.LittleEndian.AppendUint16(avs, id)
		avs = binary.LittleEndian.AppendUint16(avs, uint16(len(v)))
		avs = append(avs, v...)
	}
	add(2, utf16le("Domain"))
	add(1, utf16le("Server"))
	add(0, nil)
	blob := append([]byte{1, 1, 0, 0, 0, 0, 0, 0}, make([]byte, 8)...)
	blob = append(blob, bytes.Repeat([]byte{0xaa}, 8)...)
	blob = append(blob, 0, 0, 0, 0)
	blob = append(blob, avs...)
	blob = append(blob, 0, 0, 0, 0)
	return append(unhex(t, "68cd0ab851e51c96aabc927bebef6a1c"), blob...)
}

func TestVerifyNTLMv2(t *testing.T) {
	var nonce [8]byte
	copy(nonce[:], unhex(t, "0123456789abcdef"))
	resp := msnlmpResponse(t)
	cases := []struct {
		name     string
		password string
		user     string
		nt       []byte
		ok       bool
	}{
		{"specification vector", "Password", "User", resp, true},
		{"user name case does not matter", "Password", "USER", resp, true},
		{"wrong password", "password", "User", resp, false},
		{"other user", "Password", "Admin", resp, false},
		{"ntlmv1 length refused", "Password", "User", resp[:24], false},
		{"tampered blob", "Password", "User", append(append([]byte{}, resp[:30]...), 0xff), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := &authenticateMessage{NtResponse: tc.nt, User: tc.user, Domain: "Domain"}
			_, err := verifyNTLMv2(m, tc.password, nonce)
			if (err == nil) != tc.ok || err != nil && !errors.Is(err, errNTLM) {
				t.Errorf("got %v; want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestChallengeFlags checks that the challenge never carries LM_KEY, and
// carries SIGN, SEAL and KEY_EXCH only for a client that asked: Azure
// go-ntlmssp, which never asks, refuses a challenge with KEY_EXCH.
func TestChallengeFlags(t *testing.T) {
	target := ntlmTarget{Domain: "LAB", Computer: "WS01", DNSDomain: "lab.local",
		DNSComputer: "ws01.lab.local"}
	goNTLMSSP := uint32(flagTargetInfo | flag56 | flag128 | flagUnicode | flagExtendedSession)
	msg, _ := newChallenge(goNTLMSSP, target, time.Unix(0, 0))
	if flags := binary.LittleEndian.Uint32(msg[20:]); flags&(0x80|flagKeyExch|flagSeal) != 0 {
		t.Errorf("flags %#x for go-ntlmssp carry LM_KEY, KEY_EXCH or SEAL", flags)
	}
	msg, nonce := newChallenge(0xffffffff, target, time.Unix(0, 0))
	if typ, err := ntlmMessageType(msg); err != nil || typ != ntlmChallenge {
		t.Fatalf("got type %d, %v; want a challenge", typ, err)
	}
	flags := binary.LittleEndian.Uint32(msg[20:])
	if flags&0x80 != 0 || flags&(flagSeal|flagSign|flagKeyExch) != flagSeal|flagSign|flagKeyExch {
		t.Errorf("flags %#x: want no LM_KEY and the requested SIGN, SEAL, KEY_EXCH", flags)
	}
	if !bytes.Equal(msg[24:32], nonce[:]) {
		t.Errorf("challenge %x; want the nonce %x", msg[24:32], nonce)
	}
	info, err := varField(msg, 40)
	if err != nil || !bytes.Contains(info, []byte{7, 0, 8, 0}) {
		t.Errorf("target info %x (%v); want a Timestamp AV pair", info, err)
	}
}

func TestParseAuthenticateBounds(t *testing.T) {
	msg := make([]byte, 64)
	copy(msg, ntlmSignature)
	binary.LittleEndian.PutUint32(msg[8:], ntlmAuthenticate)
	putVarField(msg[20:], 200, 64) // NT response past the end
	if _, err := parseAuthenticate(msg); !errors.Is(err, errNTLM) {
		t.Errorf("got %v; want errNTLM for an out-of-bounds field", err)
	}
}

func FuzzParseAuthenticate(f *testing.F) {
	msg := make([]byte, 64)
	copy(msg, ntlmSignature)
	binary.LittleEndian.PutUint32(msg[8:], ntlmAuthenticate)
	f.Add(msg)
	f.Add([]byte("NTLMSSP\x00\x03\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseAuthenticate(b)
		if err == nil {
			var nonce [8]byte
			_, _ = verifyNTLMv2(m, "pw", nonce)
		}
	})
}
