package wsman

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rc4" //nolint:staticcheck // NTLM sealing is RC4 by definition (MS-NLMP 3.4.3)
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
)

// NTLM flags for message security, echoed only to clients that ask for them
// (pywinrm's ntlm_auth, masterzen/winrm's Encryption transport); Azure
// go-ntlmssp never asks and refuses a challenge carrying KEY_EXCH.
const (
	flagSign    = 0x00000010
	flagSeal    = 0x00000020
	flagKeyExch = 0x40000000
)

// Magic constants of the key derivation (MS-NLMP 3.4.5.2, 3.4.5.3).
const (
	magicClientSign = "session key to client-to-server signing key magic constant\x00"
	magicServerSign = "session key to server-to-client signing key magic constant\x00"
	magicClientSeal = "session key to client-to-server sealing key magic constant\x00"
	magicServerSeal = "session key to server-to-client sealing key magic constant\x00"
)

// MS-WSMV 2.2.9.1.1 framing of an NTLM-sealed message.
const (
	sealedProtocol    = "application/HTTP-SPNEGO-session-encrypted"
	sealedBoundary    = "--Encrypted Boundary"
	sealedContentType = `multipart/encrypted;protocol="` + sealedProtocol +
		`";boundary="Encrypted Boundary"`
	signatureLen = 16
)

// errSealed marks a sealed message that cannot be opened: bad framing, a
// wrong signature or an out-of-order sequence number.
var errSealed = errors.New("unseal message")

// ntlmSession is the NTLM security context of one connection after an
// authentication that negotiated sealing with extended session security.
type ntlmSession struct {
	mu                     sync.Mutex
	keyExch                bool
	clientSign, serverSign []byte
	clientSeal, serverSeal *rc4.Cipher
	recvSeq, sendSeq       uint32
}

// newNTLMSession derives the sealing context from the AUTHENTICATE message
// and the session base key, or returns nil when the client did not negotiate
// sealing with extended session security.
func newNTLMSession(m *authenticateMessage, sessionBaseKey []byte) (*ntlmSession, error) {
	if m.Flags&flagSeal == 0 || m.Flags&flagExtendedSession == 0 {
		return nil, nil
	}
	exported := sessionBaseKey
	if m.Flags&flagKeyExch != 0 {
		if len(m.EncryptedKey) != 16 {
			return nil, fmt.Errorf("%w: key exchange without a 16-byte session key", errNTLM)
		}
		c, _ := rc4.NewCipher(sessionBaseKey) // a 16-byte key is always valid
		exported = make([]byte, 16)
		c.XORKeyStream(exported, m.EncryptedKey)
	}
	sealKey := exported
	switch {
	case m.Flags&flag128 != 0:
	case m.Flags&flag56 != 0:
		sealKey = exported[:7]
	default:
		sealKey = exported[:5]
	}
	cs, _ := rc4.NewCipher(md5sum(sealKey, magicClientSeal))
	ss, _ := rc4.NewCipher(md5sum(sealKey, magicServerSeal))
	return &ntlmSession{keyExch: m.Flags&flagKeyExch != 0,
		clientSign: md5sum(exported, magicClientSign), serverSign: md5sum(exported, magicServerSign),
		clientSeal: cs, serverSeal: ss}, nil
}

func md5sum(key []byte, magic string) []byte {
	h := md5.New()
	h.Write(key)
	h.Write([]byte(magic))
	return h.Sum(nil)
}

// checksum is the first 8 bytes of HMAC_MD5(key, seq || msg).
func checksum(key []byte, seq uint32, msg []byte) []byte {
	mac := hmac.New(md5.New, key)
	_ = binary.Write(mac, binary.LittleEndian, seq)
	mac.Write(msg)
	return mac.Sum(nil)[:8]
}

// unseal decrypts a client message and verifies its signature, in the
// order GSS_UnwrapEx runs them on one RC4 stream.
func (s *ntlmSession) unseal(sealed, sig []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(sig) != signatureLen || binary.LittleEndian.Uint32(sig) != 1 {
		return nil, fmt.Errorf("%w: bad signature header", errSealed)
	}
	msg := make([]byte, len(sealed))
	s.clientSeal.XORKeyStream(msg, sealed)
	want := checksum(s.clientSign, s.recvSeq, msg)
	if s.keyExch {
		s.clientSeal.XORKeyStream(want, want)
	}
	seq := binary.LittleEndian.Uint32(sig[12:])
	if !hmac.Equal(want, sig[4:12]) || seq != s.recvSeq {
		return nil, fmt.Errorf("%w: signature does not match", errSealed)
	}
	s.recvSeq++
	return msg, nil
}

// seal encrypts a server message and signs it.
func (s *ntlmSession) seal(msg []byte) (sealed, sig []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sealed = make([]byte, len(msg))
	s.serverSeal.XORKeyStream(sealed, msg)
	sum := checksum(s.serverSign, s.sendSeq, msg)
	if s.keyExch {
		s.serverSeal.XORKeyStream(sum, sum)
	}
	sig = binary.LittleEndian.AppendUint32(make([]byte, 0, signatureLen), 1)
	sig = append(sig, sum...)
	sig = binary.LittleEndian.AppendUint32(sig, s.sendSeq)
	s.sendSeq++
	return sealed, sig
}

// openSealedBody parses the MS-WSMV multipart framing and unseals the SOAP
// message inside it, checking the length the header announces.
func (s *ntlmSession) openSealedBody(body []byte) ([]byte, error) {
	parts := bytes.Split(body, []byte(sealedBoundary+"\r\n"))
	if len(parts) != 3 || len(parts[0]) != 0 {
		return nil, fmt.Errorf("%w: want one header and one payload part", errSealed)
	}
	_, lenText, ok := bytes.Cut(parts[1], []byte("Length="))
	length, err := strconv.Atoi(string(bytes.TrimSpace(lenText)))
	if !ok || err != nil {
		return nil, fmt.Errorf("%w: no original length", errSealed)
	}
	payload, ok := bytes.CutPrefix(parts[2], []byte("\tContent-Type: application/octet-stream\r\n"))
	if !ok {
		return nil, fmt.Errorf("%w: payload part without its content type", errSealed)
	}
	payload, ok = bytes.CutSuffix(payload, []byte(sealedBoundary+"--\r\n"))
	if !ok || len(payload) < 4+signatureLen ||
		binary.LittleEndian.Uint32(payload) != signatureLen {
		return nil, fmt.Errorf("%w: truncated payload", errSealed)
	}
	msg, err := s.unseal(payload[4+signatureLen:], payload[4:4+signatureLen])
	if err != nil {
		return nil, err
	}
	if len(msg) != length {
		return nil, fmt.Errorf("%w: length %d; header says %d", errSealed, len(msg), length)
	}
	return msg, nil
}

// sealBody frames msg as an MS-WSMV sealed message.
func (s *ntlmSession) sealBody(msg []byte) []byte {
	sealed, sig := s.seal(msg)
	var b bytes.Buffer
	b.Grow(len(msg) + 256)
	b.WriteString(sealedBoundary + "\r\n\tContent-Type: " + sealedProtocol + "\r\n" +
		"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=")
	b.WriteString(strconv.Itoa(len(msg)))
	b.WriteString("\r\n" + sealedBoundary + "\r\n\tContent-Type: application/octet-stream\r\n")
	_ = binary.Write(&b, binary.LittleEndian, uint32(signatureLen))
	b.Write(sig)
	b.Write(sealed)
	b.WriteString(sealedBoundary + "--\r\n")
	return b.Bytes()
}
