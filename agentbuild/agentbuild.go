// Package agentbuild cross-compiles the host agent (cmd/botagent) for the Windows VMs while
// the Pulumi program runs, so `pulumi up` from a clean clone ships it with no manual step.
//
// The binary is named after a hash of the agent's source, not of the compiled bytes: the
// name, and with it the extension's settings, change exactly when the agent's code does,
// whatever Go toolchain builds it. Builds are cached by that name, so previews after the
// first cost a few file reads.
package agentbuild

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Module is this repository's module path.
const Module = "github.com/botpool/botpool"

// SourceDirs are the module's packages the agent is built from (checked against
// `go list -deps` by a test), relative to the module root.
var SourceDirs = []string{"addressplan", "agent", "cmd/botagent"}

// Binary is a built agent.
type Binary struct {
	Name       string // botagent-<source hash>.exe
	Path       string // the cached executable
	SourceHash string
}

// FindModuleRoot walks up from dir to the directory whose go.mod declares Module.
func FindModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && modulePath(b) == Module {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod of module %s above %s: run from the botpool checkout", Module, dir)
		}
	}
}

func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "module" {
			return f[1]
		}
	}
	return ""
}

// SourceHash hashes go.mod, go.sum and the agent's non-test Go files, by path and content.
func SourceHash(root string) (string, error) {
	files := []string{"go.mod", "go.sum"}
	for _, dir := range SourceDirs {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && p != filepath.Join(root, dir) {
				return fs.SkipDir // subpackages are not part of the build unless listed
			}
			if !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
				rel, _ := filepath.Rel(root, p)
				files = append(files, filepath.ToSlash(rel))
			}
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("hash agent source: %w", err)
		}
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil {
			return "", fmt.Errorf("hash agent source: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Build returns the Windows agent for the source under root, compiling it into cacheDir
// when that source has not been built before.
func Build(root, cacheDir string) (Binary, error) {
	hash, err := SourceHash(root)
	if err != nil {
		return Binary{}, err
	}
	b := Binary{Name: "botagent-" + hash[:12] + ".exe", SourceHash: hash}
	b.Path = filepath.Join(cacheDir, b.Name)
	if fi, err := os.Stat(b.Path); err == nil && fi.Size() > 0 {
		return b, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return Binary{}, fmt.Errorf("agent build cache: %w", err)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return Binary{}, fmt.Errorf("building the host agent needs the Go toolchain on PATH: %w", err)
	}
	tmp, err := os.CreateTemp(cacheDir, b.Name+".*.tmp")
	if err != nil {
		return Binary{}, fmt.Errorf("agent build cache: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.Command(goTool, "build", "-trimpath", "-ldflags=-s -w", "-o", tmp.Name(), "./cmd/botagent")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return Binary{}, fmt.Errorf("cross-compile the host agent (GOOS=windows GOARCH=amd64 go build ./cmd/botagent): %w\n%s", err, out)
	}
	// Concurrent builds of the same source produce equivalent files; the last rename wins.
	if err := os.Rename(tmp.Name(), b.Path); err != nil {
		return Binary{}, fmt.Errorf("agent build cache: %w", err)
	}
	return b, nil
}

// DefaultCacheDir is the per-user cache the binaries go to. Runners and containers without
// HOME have no user cache directory; they fall back to the temporary directory.
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "botpool", "agent"), nil
}
