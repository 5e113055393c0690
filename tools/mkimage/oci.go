package main

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// Media types of the OCI image spec (v1.1) that the image uses.
const (
	mediaTypeIndex    = "application/vnd.oci.image.index.v1+json"
	mediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	mediaTypeLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// The OCI structures, with only the fields the image sets.
type (
	descriptor struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Size        int64             `json:"size"`
		Annotations map[string]string `json:"annotations,omitempty"`
		Platform    *platform         `json:"platform,omitempty"`
	}
	platform struct {
		Architecture string `json:"architecture"`
		OS           string `json:"os"`
	}
	index struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Manifests     []descriptor `json:"manifests"`
	}
	manifest struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Config        descriptor   `json:"config"`
		Layers        []descriptor `json:"layers"`
	}
	imageConfig struct {
		Created      string        `json:"created"`
		Architecture string        `json:"architecture"`
		OS           string        `json:"os"`
		Config       runConfig     `json:"config"`
		RootFS       rootFS        `json:"rootfs"`
		History      []historyItem `json:"history"`
	}
	runConfig struct {
		User         string              `json:"User"`
		ExposedPorts map[string]struct{} `json:"ExposedPorts"`
		Env          []string            `json:"Env"`
		Entrypoint   []string            `json:"Entrypoint"`
		Cmd          []string            `json:"Cmd"`
		WorkingDir   string              `json:"WorkingDir"`
		Labels       map[string]string   `json:"Labels"`
	}
	rootFS struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	}
	historyItem struct {
		Created   string `json:"created"`
		CreatedBy string `json:"created_by"`
	}
	// dockerManifest is one entry of the manifest.json that `docker load`
	// reads; it points at the same blobs as the OCI index.
	dockerManifest struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
)

// imageMeta is what the image says about itself beyond its files.
type imageMeta struct {
	name       string // repository part of the reference, e.g. "gosentinel"
	version    string
	revision   string
	source     string
	arch       string
	created    time.Time
	entrypoint []string
	cmd        []string
	env        []string
	user       string
	workingDir string
	ports      []string
}

// tagPattern is what a tag may be (the distribution spec's grammar).
var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// writeImage writes the OCI image layout of one image with one layer, as a
// tar at out (written to a temp file and renamed, so a failed build leaves
// no half tarball). The tarball also holds a docker-archive manifest.json.
func writeImage(out string, meta imageMeta, l layer) error {
	if !tagPattern.MatchString(meta.version) {
		return fmt.Errorf("version %q is not a valid image tag", meta.version)
	}
	created := meta.created.UTC().Format(time.RFC3339)
	ports := map[string]struct{}{}
	for _, p := range meta.ports {
		ports[p] = struct{}{}
	}
	cfg := imageConfig{
		Created:      created,
		Architecture: meta.arch,
		OS:           "linux",
		Config: runConfig{
			User:         meta.user,
			ExposedPorts: ports,
			Env:          meta.env,
			Entrypoint:   meta.entrypoint,
			Cmd:          meta.cmd,
			WorkingDir:   meta.workingDir,
			Labels: map[string]string{
				"org.opencontainers.image.title":       meta.name,
				"org.opencontainers.image.description": "gosentinel, a Redis Sentinel replacement, as the Bitnami redis chart's sentinel container",
				"org.opencontainers.image.source":      meta.source,
				"org.opencontainers.image.version":     meta.version,
				"org.opencontainers.image.revision":    meta.revision,
				"org.opencontainers.image.created":     created,
			},
		},
		RootFS:  rootFS{Type: "layers", DiffIDs: []string{l.diffID}},
		History: []historyItem{{Created: created, CreatedBy: "tools/mkimage (Debian bookworm packages, deploy/image/rootfs, gosentinel " + meta.version + ")"}},
	}
	cfgBlob, err := jsonBlob(cfg)
	if err != nil {
		return err
	}
	man := manifest{
		SchemaVersion: 2,
		MediaType:     mediaTypeManifest,
		Config:        descriptor{MediaType: mediaTypeConfig, Digest: cfgBlob.digest, Size: int64(len(cfgBlob.data))},
		Layers:        []descriptor{{MediaType: mediaTypeLayer, Digest: l.digest, Size: int64(len(l.data))}},
	}
	manBlob, err := jsonBlob(man)
	if err != nil {
		return err
	}
	idx := index{
		SchemaVersion: 2,
		MediaType:     mediaTypeIndex,
		Manifests: []descriptor{{
			MediaType:   mediaTypeManifest,
			Digest:      manBlob.digest,
			Size:        int64(len(manBlob.data)),
			Annotations: map[string]string{"org.opencontainers.image.ref.name": meta.version},
			Platform:    &platform{Architecture: meta.arch, OS: "linux"},
		}},
	}
	idxJSON, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	dockerJSON, err := json.Marshal([]dockerManifest{{
		Config:   "blobs/sha256/" + cfgBlob.hex(),
		RepoTags: []string{meta.name + ":" + meta.version},
		Layers:   []string{"blobs/sha256/" + l.hex()},
	}})
	if err != nil {
		return err
	}

	files := []struct {
		name string
		data []byte
	}{
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{"index.json", idxJSON},
		{"manifest.json", dockerJSON},
		{"blobs/sha256/" + cfgBlob.hex(), cfgBlob.data},
		{"blobs/sha256/" + manBlob.hex(), manBlob.data},
		{"blobs/sha256/" + l.hex(), l.data},
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".mkimage-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	tw := tar.NewWriter(tmp)
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: meta.created}); err != nil {
			return err
		}
	}
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(f.data)), ModTime: meta.created}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

func jsonBlob(v any) (blob, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return blob{}, err
	}
	return newBlob(b), nil
}
