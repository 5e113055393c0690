package tlsconf

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestEncryptedPKCS8KeysAreRead: a key encrypted as OpenSSL 3 writes it for
// tls-key-file-pass ("BEGIN ENCRYPTED PRIVATE KEY": PBES2 with PBKDF2) is
// decrypted; gosentinel refused it at start, where redis loads it. The
// fixtures were written by `openssl pkcs8 -topk8` (OpenSSL 3.0.19) from
// plain.pem, passphrase s3cret.
func TestEncryptedPKCS8KeysAreRead(t *testing.T) {
	dir := filepath.Join("testdata", "pkcs8")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	plainBlock, _ := pem.Decode(read("plain.pem"))
	want, err := x509.ParsePKCS8PrivateKey(plainBlock.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"aes256-sha256.pem", "aes128-sha1.pem", "des3-sha512.pem"} {
		out, err := decryptKey(read(name), "s3cret")
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		b, _ := pem.Decode(out)
		got, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decrypted to another key (%v)", name, err)
		}
		if _, err := decryptKey(read(name), "wrong"); err == nil {
			t.Errorf("%s: decrypted with a wrong passphrase", name)
		}
		if _, err := decryptKey(read(name), ""); err == nil || !strings.Contains(err.Error(), "no tls-key-file-pass") {
			t.Errorf("%s without a passphrase: %v", name, err)
		}
	}
	// scrypt (openssl pkcs8 -scrypt) is not read, and says so.
	if _, err := decryptKey(read("scrypt.pem"), "s3cret"); err == nil || !strings.Contains(err.Error(), "scrypt") {
		t.Errorf("scrypt: %v", err)
	}
}
