package fakefleet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Bounds of the request reader: a sentinel's largest request is a hello
// PUBLISH of about 150 bytes; redis' own bounds (512 MB bulks) are a data
// server's.
const (
	maxInline   = 64 << 10
	maxBulk     = 1 << 20
	maxArgCount = 1024
)

// protocolError is a malformed request: redis answers "-ERR Protocol
// error: ..." and closes the connection.
type protocolError string

func (e protocolError) Error() string { return "Protocol error: " + string(e) }

// readCommand reads one request, a multibulk or an inline command, as
// networking.c does. An empty inline line yields no arguments (redis
// ignores it).
func readCommand(br *bufio.Reader) ([]string, error) {
	line, err := readLine(br, maxInline)
	if err != nil {
		return nil, err
	}
	if len(line) == 0 || line[0] != '*' {
		return strings.Fields(line), nil
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n > maxArgCount {
		return nil, protocolError("invalid multibulk length")
	}
	args := make([]string, 0, max(n, 0))
	for range n {
		l, err := readLine(br, maxInline)
		if err != nil {
			return nil, err
		}
		if len(l) == 0 || l[0] != '$' {
			return nil, protocolError(fmt.Sprintf("expected '$', got '%.1s'", l))
		}
		size, err := strconv.Atoi(l[1:])
		if err != nil || size < 0 || size > maxBulk {
			return nil, protocolError("invalid bulk length")
		}
		buf := make([]byte, size+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, err
		}
		if buf[size] != '\r' || buf[size+1] != '\n' {
			return nil, protocolError("bulk not terminated by CRLF")
		}
		args = append(args, string(buf[:size]))
	}
	return args, nil
}

// readLine reads a line without its "\r\n" (or "\n", as redis accepts for
// inline commands).
func readLine(br *bufio.Reader, limit int) (string, error) {
	var long []byte
	for {
		frag, err := br.ReadSlice('\n')
		if err == nil {
			var line []byte
			if long != nil {
				line = append(long, frag...)
			} else {
				line = frag
			}
			line = line[:len(line)-1]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			return string(line), nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", err
		}
		long = append(long, frag...)
		if len(long) > limit {
			return "", protocolError("too big inline request")
		}
	}
}

// Reply encoders, appending to b.

func appendStatus(b []byte, s string) []byte { return append(append(append(b, '+'), s...), "\r\n"...) }

func appendError(b []byte, s string) []byte {
	// rejectCommand: no newline may end up inside an error line.
	s = strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	return append(append(append(b, '-'), s...), "\r\n"...)
}

func appendInt(b []byte, n int64) []byte {
	return append(strconv.AppendInt(append(b, ':'), n, 10), "\r\n"...)
}

func appendBulk(b []byte, s string) []byte {
	b = strconv.AppendInt(append(b, '$'), int64(len(s)), 10)
	return append(append(append(b, "\r\n"...), s...), "\r\n"...)
}

func appendNull(b []byte) []byte { return append(b, "$-1\r\n"...) }

func appendArrayHeader(b []byte, n int) []byte {
	return append(strconv.AppendInt(append(b, '*'), int64(n), 10), "\r\n"...)
}
