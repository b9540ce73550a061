package wsman

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"

	"golang.org/x/crypto/md4" //nolint:staticcheck // NTOWFv1 is MD4 by definition (MS-NLMP 3.3.2)
)

// NTLM message types and the negotiate flags this server uses (MS-NLMP 2.2).
const (
	ntlmNegotiate    = 1
	ntlmChallenge    = 2
	ntlmAuthenticate = 3

	flagUnicode         = 0x00000001
	flagOEM             = 0x00000002
	flagRequestTarget   = 0x00000004
	flagNTLM            = 0x00000200
	flagAlwaysSign      = 0x00008000
	flagTargetDomain    = 0x00010000
	flagExtendedSession = 0x00080000
	flagTargetInfo      = 0x00800000
	flagVersion         = 0x02000000
	flag128             = 0x20000000
	flag56              = 0x80000000

	// challengeFlags are the flags every challenge carries. SIGN, SEAL and
	// KEY_EXCH are added only when the client asks for them (see seal.go).
	challengeFlags = flagUnicode | flagRequestTarget | flagNTLM | flagAlwaysSign |
		flagTargetDomain | flagExtendedSession | flagTargetInfo | flagVersion |
		flag128 | flag56

	// maxNTLMMessage bounds a token; real ones are well under 2 KiB.
	maxNTLMMessage = 16 << 10
	// windowsEpochOffset is 1601-01-01 to 1970-01-01 in 100 ns ticks.
	windowsEpochOffset = 116444736000000000
)

var ntlmSignature = []byte("NTLMSSP\x00")

// errNTLM marks an NTLM token that is malformed or fails verification.
var errNTLM = errors.New("ntlm authentication failed")

// ntlmTarget names the server in its challenge.
type ntlmTarget struct {
	Domain                 string // NetBIOS domain name, also the TargetName
	Computer               string // NetBIOS computer name
	DNSDomain, DNSComputer string
}

// ntlmMessageType returns the type of an NTLMSSP token, or an error if b is
// not one (a SPNEGO token starting with 0x60, say).
func ntlmMessageType(b []byte) (uint32, error) {
	if len(b) < 12 || !bytes.Equal(b[:8], ntlmSignature) {
		return 0, fmt.Errorf("%w: not an NTLMSSP token", errNTLM)
	}
	return binary.LittleEndian.Uint32(b[8:12]), nil
}

// newChallenge builds a CHALLENGE_MESSAGE answering a NEGOTIATE_MESSAGE
// with flags clientFlags, and returns it with its server challenge.
func newChallenge(clientFlags uint32, t ntlmTarget, now time.Time) (msg []byte, nonce [8]byte) {
	_, _ = rand.Read(nonce[:])
	flags := uint32(challengeFlags) | clientFlags&(flagSign|flagSeal|flagKeyExch)
	if clientFlags&flagUnicode == 0 && clientFlags&flagOEM != 0 {
		flags &^= flagUnicode // a client that asked only for OEM; Unicode stays the default
		flags |= flagOEM
	}

	target := utf16le(t.Domain)
	info := avPairs(t, now)
	const headerLen = 56
	msg = make([]byte, headerLen, headerLen+len(target)+len(info))
	copy(msg, ntlmSignature)
	binary.LittleEndian.PutUint32(msg[8:], ntlmChallenge)
	putVarField(msg[12:], len(target), headerLen)
	binary.LittleEndian.PutUint32(msg[20:], flags)
	copy(msg[24:32], nonce[:])
	putVarField(msg[40:], len(info), headerLen+len(target))
	// Version: Windows 10.0 build 17763 (Server 2019), NTLM revision 15.
	copy(msg[48:56], []byte{10, 0, 0x63, 0x45, 0, 0, 0, 15})
	msg = append(msg, target...)
	msg = append(msg, info...)
	return msg, nonce
}

// avPairs encodes the TargetInfo list Windows sends, Timestamp included so
// that clients compute a MIC-capable NTLMv2 response.
func avPairs(t ntlmTarget, now time.Time) []byte {
	var b []byte
	add := func(id uint16, v []byte) {
		b = binary.LittleEndian.AppendUint16(b, id)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(v)))
		b = append(b, v...)
	}
	add(2, utf16le(t.Domain))
	add(1, utf16le(t.Computer))
	add(4, utf16le(t.DNSDomain))
	add(3, utf16le(t.DNSComputer))
	ts := make([]byte, 8)
	binary.LittleEndian.PutUint64(ts, uint64(now.UnixNano()/100)+windowsEpochOffset)
	add(7, ts)
	add(0, nil)
	return b
}

func putVarField(b []byte, n, offset int) {
	binary.LittleEndian.PutUint16(b[0:], uint16(n))
	binary.LittleEndian.PutUint16(b[2:], uint16(n))
	binary.LittleEndian.PutUint32(b[4:], uint32(offset))
}

// authenticateMessage holds the fields of an AUTHENTICATE_MESSAGE this server
// checks.
type authenticateMessage struct {
	NtResponse   []byte
	Domain       string
	User         string
	EncryptedKey []byte // EncryptedRandomSessionKey, with KEY_EXCH
	Flags        uint32
}

// parseAuthenticate decodes an AUTHENTICATE_MESSAGE, checking every field's
// bounds against the token.
func parseAuthenticate(b []byte) (*authenticateMessage, error) {
	if len(b) < 64 || len(b) > maxNTLMMessage {
		return nil, fmt.Errorf("%w: authenticate message of %d bytes", errNTLM, len(b))
	}
	if typ, err := ntlmMessageType(b); err != nil || typ != ntlmAuthenticate {
		return nil, fmt.Errorf("%w: not an authenticate message", errNTLM)
	}
	m := &authenticateMessage{Flags: binary.LittleEndian.Uint32(b[60:])}
	var fields [4][]byte
	for i, off := range []int{20, 28, 36, 52} {
		f, err := varField(b, off)
		if err != nil {
			return nil, err
		}
		fields[i] = f
	}
	m.NtResponse, m.EncryptedKey = fields[0], fields[3]
	unicode := m.Flags&flagUnicode != 0
	m.Domain, m.User = decodeNTLMString(fields[1], unicode), decodeNTLMString(fields[2], unicode)
	return m, nil
}

func varField(b []byte, off int) ([]byte, error) {
	n := int(binary.LittleEndian.Uint16(b[off:]))
	start := int(binary.LittleEndian.Uint32(b[off+4:]))
	if start < 0 || start > len(b) || n > len(b)-start {
		return nil, fmt.Errorf("%w: field at offset %d out of bounds", errNTLM, off)
	}
	return b[start : start+n], nil
}

func decodeNTLMString(b []byte, unicode bool) string {
	if !unicode {
		return string(b)
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

// ntowfv2 derives the NTLMv2 key from a password, a user and the domain the
// client named (MS-NLMP 3.3.2).
func ntowfv2(password, user, domain string) []byte {
	h := md4.New()
	h.Write(utf16le(password))
	mac := hmac.New(md5.New, h.Sum(nil))
	mac.Write(utf16le(strings.ToUpper(user) + domain))
	return mac.Sum(nil)
}

// verifyNTLMv2 checks an NTLMv2 response against the password: NTProofStr
// must equal HMAC_MD5(NTOWFv2, ServerChallenge || blob). NTLMv1 responses
// (24 bytes) are refused, as hardened Windows hosts do. It returns the
// SessionBaseKey that message security derives its keys from.
func verifyNTLMv2(m *authenticateMessage, password string, nonce [8]byte) ([]byte, error) {
	if len(m.NtResponse) <= 24 {
		return nil, fmt.Errorf("%w: NTLMv1 response refused", errNTLM)
	}
	proof, blob := m.NtResponse[:16], m.NtResponse[16:]
	key := ntowfv2(password, m.User, m.Domain)
	mac := hmac.New(md5.New, key)
	mac.Write(nonce[:])
	mac.Write(blob)
	if subtle.ConstantTimeCompare(mac.Sum(nil), proof) != 1 {
		return nil, fmt.Errorf("%w: wrong password for %q", errNTLM, m.User)
	}
	base := hmac.New(md5.New, key)
	base.Write(proof)
	return base.Sum(nil), nil
}
