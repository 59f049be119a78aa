package agentbuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The hash covers exactly the module packages the agent is compiled from.
func TestSourceDirsMatchTheAgentsDependencies(t *testing.T) {
	root, err := FindModuleRoot(".")
	require.NoError(t, err)
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./cmd/botagent")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64")
	out, err := cmd.Output()
	require.NoError(t, err)
	var got []string
	for _, p := range strings.Fields(string(out)) {
		if rel, ok := strings.CutPrefix(p, Module+"/"); ok {
			got = append(got, rel)
		}
	}
	sort.Strings(got)
	want := append([]string(nil), SourceDirs...)
	sort.Strings(want)
	assert.Equal(t, want, got)
}

func TestSourceHashChangesWithTheAgentsCode(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(root, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	write("go.mod", "module "+Module+"\n")
	write("go.sum", "")
	write("agent/agent.go", "package agent\n")
	write("addressplan/plan.go", "package addressplan\n")
	write("cmd/botagent/main.go", "package main\n")
	base, err := SourceHash(root)
	require.NoError(t, err)

	write("agent/agent_test.go", "package agent // tests are not shipped\n")
	write("pool/pool.go", "package pool // not part of the agent\n")
	same, err := SourceHash(root)
	require.NoError(t, err)
	assert.Equal(t, base, same)

	write("agent/agent.go", "package agent\n\nconst changed = true\n")
	changed, err := SourceHash(root)
	require.NoError(t, err)
	assert.NotEqual(t, base, changed)

	got, err := FindModuleRoot(filepath.Join(root, "agent"))
	require.NoError(t, err)
	assert.Equal(t, root, got)
}

func TestBuildCrossCompilesOnceIntoTheCache(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the agent; skipped with -short")
	}
	root, err := FindModuleRoot(".")
	require.NoError(t, err)
	cache := t.TempDir()
	b, err := Build(root, cache)
	require.NoError(t, err)
	assert.Regexp(t, `^botagent-[0-9a-f]{12}\.exe$`, b.Name)
	head := make([]byte, 2)
	f, err := os.Open(b.Path)
	require.NoError(t, err)
	_, err = f.Read(head)
	f.Close()
	require.NoError(t, err)
	assert.Equal(t, "MZ", string(head), "a Windows executable")

	// A second build of the same source is the cached file.
	fi, _ := os.Stat(b.Path)
	again, err := Build(root, cache)
	require.NoError(t, err)
	fi2, _ := os.Stat(again.Path)
	assert.Equal(t, b, again)
	assert.Equal(t, fi.ModTime(), fi2.ModTime())
}

// Without HOME or XDG_CACHE_HOME there is no user cache directory; the build still has a place
// to go instead of failing every plan and pulumi up.
func TestDefaultCacheDirWithoutHome(t *testing.T) {
	t.Setenv("HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	d, err := DefaultCacheDir()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(os.TempDir(), "botpool", "agent"), d)
}
