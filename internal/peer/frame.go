package peer

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxFrameSize bounds one RPC message. Peer messages are small (a command,
// a report); the bound stops a corrupt length from allocating gigabytes.
const MaxFrameSize = 8 << 20

// request is what Client.Call sends.
type request struct {
	Op   string          `json:"op"`
	Body json.RawMessage `json:"body,omitempty"`
	// TimeoutMs is what remains of the caller's deadline, so the handler
	// gives up when the caller has.
	TimeoutMs int64 `json:"timeout_ms,omitempty"`
}

// response is what Server answers.
type response struct {
	Error string `json:"error,omitempty"`
	// Code names the error value Error came from (Codes), if registered.
	Code string          `json:"code,omitempty"`
	Body json.RawMessage `json:"body,omitempty"`
}

// errFrameTooLarge is writeFrame's refusal of a message over MaxFrameSize,
// before it wrote anything.
var errFrameTooLarge = errors.New("rpc frame too large")

func writeFrame(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("failed to encode rpc frame: %w", err)
	}
	if len(data) > MaxFrameSize {
		return fmt.Errorf("%w: %d bytes, the bound is %d", errFrameTooLarge, len(data), MaxFrameSize)
	}
	buf := make([]byte, 4+len(data))
	binary.BigEndian.PutUint32(buf, uint32(len(data)))
	copy(buf[4:], data)
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("failed to write rpc frame: %w", err)
	}
	return nil
}

// readFrame reads one frame into v. n counts the bytes read, so a caller can
// tell "nothing arrived" from "the frame broke off".
func readFrame(r io.Reader, v any) (n int, err error) {
	var hdr [4]byte
	m, err := io.ReadFull(r, hdr[:])
	n += m
	if err != nil {
		return n, err
	}
	size := binary.BigEndian.Uint32(hdr[:])
	if size > MaxFrameSize {
		return n, fmt.Errorf("rpc frame of %d bytes exceeds %d", size, MaxFrameSize)
	}
	data := make([]byte, size)
	m, err = io.ReadFull(r, data)
	n += m
	if err != nil {
		return n, fmt.Errorf("failed to read rpc frame: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return n, fmt.Errorf("failed to decode rpc frame: %w", err)
	}
	return n, nil
}
