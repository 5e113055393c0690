package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"
)

// blob is content addressed by its sha256, as the OCI layout stores it.
type blob struct {
	data   []byte
	digest string // "sha256:<hex>"
}

func newBlob(data []byte) blob {
	sum := sha256.Sum256(data)
	return blob{data: data, digest: "sha256:" + hex.EncodeToString(sum[:])}
}

func (b blob) hex() string { return b.digest[len("sha256:"):] }

// layer is the gzip-compressed tar of the tree, with the digest of its
// uncompressed bytes (the config's diff_id) and its unpacked size.
type layer struct {
	blob
	diffID       string
	unpackedSize int64 // bytes of regular files' content
}

// writeLayer tars the tree in path order with every mtime at mtime, uid and
// gid from each entry and no user or group names, and gzips it: the same
// tree gives the same bytes.
func writeLayer(t *tree, mtime time.Time) (layer, error) {
	var compressed bytes.Buffer
	zw, err := gzip.NewWriterLevel(&compressed, gzip.BestCompression)
	if err != nil {
		return layer{}, err
	}
	uncompressed := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(zw, uncompressed))
	var size int64
	for _, e := range t.sorted() {
		hdr := &tar.Header{
			Name:     e.path,
			Typeflag: e.kind,
			Mode:     e.mode,
			Uid:      e.uid,
			Gid:      e.uid,
			ModTime:  mtime,
			Format:   tar.FormatPAX,
		}
		var content []byte
		switch e.kind {
		case tar.TypeDir:
			hdr.Name += "/"
		case tar.TypeSymlink:
			hdr.Linkname = e.target
		case tar.TypeReg:
			content = e.data
			if e.src != "" {
				if content, err = os.ReadFile(e.src); err != nil {
					return layer{}, err
				}
			}
			hdr.Size = int64(len(content))
			size += hdr.Size
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return layer{}, fmt.Errorf("tar %s: %w", e.path, err)
		}
		if _, err := tw.Write(content); err != nil {
			return layer{}, fmt.Errorf("tar %s: %w", e.path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return layer{}, err
	}
	if err := zw.Close(); err != nil {
		return layer{}, err
	}
	return layer{
		blob:         newBlob(compressed.Bytes()),
		diffID:       "sha256:" + hex.EncodeToString(uncompressed.Sum(nil)),
		unpackedSize: size,
	}, nil
}
