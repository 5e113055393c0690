package tlsconf

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
)

// An encrypted PKCS#8 key (RFC 5958 EncryptedPrivateKeyInfo under PBES2,
// RFC 8018) is what OpenSSL 3 writes for `genrsa -aes256`, `req -newkey`
// and `pkey -aes256`: "BEGIN ENCRYPTED PRIVATE KEY". redis loads it with
// tls-key-file-pass; Go's x509 package reads only the traditional PEM
// encryption, so the PBES2 scheme with PBKDF2 is decrypted here.

var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
)

type encryptedPrivateKeyInfo struct {
	Algo pkix.AlgorithmIdentifier
	Data []byte
}

type pbes2Params struct {
	KDF pkix.AlgorithmIdentifier
	Enc pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

// maxPBKDF2Iterations bounds the work a key file can ask for (OpenSSL 3
// writes 2048; redis' own test keys use as many).
const maxPBKDF2Iterations = 10_000_000

// decryptPKCS8 returns the DER of the PKCS#8 PrivateKeyInfo that der, an
// EncryptedPrivateKeyInfo, holds under pass.
func decryptPKCS8(der []byte, pass string) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) != 0 {
		return nil, errors.New("not an encrypted PKCS#8 key")
	}
	if !info.Algo.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("not supported: an encrypted PKCS#8 key under %v (only PBES2 is read)", info.Algo.Algorithm)
	}
	var p pbes2Params
	if rest, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &p); err != nil || len(rest) != 0 {
		return nil, errors.New("an encrypted PKCS#8 key with malformed PBES2 parameters")
	}
	if !p.KDF.Algorithm.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("not supported: an encrypted PKCS#8 key derived with %v (only PBKDF2 is read; scrypt is not)", p.KDF.Algorithm)
	}
	var kdf pbkdf2Params
	if rest, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &kdf); err != nil || len(rest) != 0 {
		return nil, errors.New("an encrypted PKCS#8 key with malformed PBKDF2 parameters")
	}
	if kdf.Iterations < 1 || kdf.Iterations > maxPBKDF2Iterations {
		return nil, fmt.Errorf("an encrypted PKCS#8 key asking for %d PBKDF2 iterations", kdf.Iterations)
	}
	var prf func() hash.Hash
	switch a := kdf.PRF.Algorithm; {
	case len(a) == 0 || a.Equal(oidHMACSHA1):
		prf = sha1.New
	case a.Equal(oidHMACSHA224):
		prf = sha256.New224
	case a.Equal(oidHMACSHA256):
		prf = sha256.New
	case a.Equal(oidHMACSHA384):
		prf = sha512.New384
	case a.Equal(oidHMACSHA512):
		prf = sha512.New
	default:
		return nil, fmt.Errorf("not supported: an encrypted PKCS#8 key with the PBKDF2 function %v", a)
	}
	var keyLen int
	var newBlock func([]byte) (cipher.Block, error)
	switch a := p.Enc.Algorithm; {
	case a.Equal(oidAES128CBC):
		keyLen, newBlock = 16, aes.NewCipher
	case a.Equal(oidAES192CBC):
		keyLen, newBlock = 24, aes.NewCipher
	case a.Equal(oidAES256CBC):
		keyLen, newBlock = 32, aes.NewCipher
	case a.Equal(oidDESEDE3CBC):
		keyLen, newBlock = 24, des.NewTripleDESCipher
	default:
		return nil, fmt.Errorf("not supported: an encrypted PKCS#8 key under the cipher %v", a)
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != keyLen {
		return nil, fmt.Errorf("an encrypted PKCS#8 key whose PBKDF2 key length %d does not fit its cipher", kdf.KeyLength)
	}
	var iv []byte
	if rest, err := asn1.Unmarshal(p.Enc.Parameters.FullBytes, &iv); err != nil || len(rest) != 0 {
		return nil, errors.New("an encrypted PKCS#8 key with a malformed IV")
	}
	key, err := pbkdf2.Key(prf, pass, kdf.Salt, kdf.Iterations, keyLen)
	if err != nil {
		return nil, fmt.Errorf("failed to derive the key's key: %w", err)
	}
	block, err := newBlock(key)
	if err != nil {
		return nil, err
	}
	bs := block.BlockSize()
	if len(iv) != bs || len(info.Data) == 0 || len(info.Data)%bs != 0 {
		return nil, errors.New("an encrypted PKCS#8 key with a malformed IV or data")
	}
	plain := make([]byte, len(info.Data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, info.Data)
	// PKCS#7 padding; a wrong password almost always breaks it, else the
	// DER below.
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > bs || !bytes.Equal(plain[len(plain)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, errors.New("failed to decrypt the key: wrong tls-key-file-pass")
	}
	plain = plain[:len(plain)-pad]
	var check asn1.RawValue
	if rest, err := asn1.Unmarshal(plain, &check); err != nil || len(rest) != 0 {
		return nil, errors.New("failed to decrypt the key: wrong tls-key-file-pass")
	}
	return plain, nil
}
