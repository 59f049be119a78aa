package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/botpool/botpool/addressplan"
	"github.com/botpool/botpool/agent"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeDesired(t *testing.T, d agent.Desired) string {
	t.Helper()
	b, err := json.Marshal(d)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "desired.json")
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return p
}

func TestCLI(t *testing.T) {
	// TEST-NET-1: no machine running the tests holds these addresses.
	plan, err := addressplan.Build(addressplan.Layout{Subnet: netip.MustParsePrefix("192.0.2.0/29"), BasePort: 8011, SlotsPerVM: 2, ContainerPort: 443}, nil)
	require.NoError(t, err)
	good := writeDesired(t, agent.Desired{Plan: plan, Image: "myreg.azurecr.io/meeting-bot:v1", Health: agent.HealthConfig{Port: 8000, Path: "/health"}})
	bad := writeDesired(t, agent.Desired{Plan: plan, Image: "myreg.azurecr.io/meeting-bot:v1", Health: agent.HealthConfig{Port: 8011, Path: "/health"}})

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{name: "no command", args: nil, code: exitUsage, stderr: "usage:"},
		{name: "unknown command", args: []string{"rollout"}, code: exitUsage, stderr: `unknown command "rollout"`},
		{name: "missing desired", args: []string{"apply"}, code: exitUsage, stderr: "botagent apply: --desired FILE is required\n"},
		{name: "invalid desired", args: []string{"apply", "--desired", bad}, code: exitUsage,
			stderr: "health.port: 8011 is the port of bot bot-8011 (host 192.0.2.4)"},
		{name: "apply on a VM not in the plan", args: []string{"apply", "--desired", good, "--timeout", "5s"}, code: exitNotConverged,
			stderr: "botagent apply: not converged: this VM is not in the plan"},
		{name: "check on a VM not in the plan", args: []string{"check", "--desired", good}, code: exitNotConverged,
			stderr: "botagent check: unhealthy: this VM is not in the plan"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &stdout, &stderr)
			assert.Equal(t, tc.code, code)
			assert.Contains(t, stderr.String(), tc.stderr)
			if code == exitNotConverged {
				assert.Equal(t, 1, strings.Count(stderr.String(), "\n"), "the verdict is one line: %q", stderr.String())
			}
		})
	}
}

func TestFileLockExcludes(t *testing.T) {
	l := fileLock{path: filepath.Join(t.TempDir(), "botagent.lock")}
	unlock, ok, err := l.TryLock()
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = l.TryLock()
	require.NoError(t, err)
	assert.False(t, ok, "a second holder is refused while the first holds the lock")
	unlock()
	unlock2, ok, err := l.TryLock()
	require.NoError(t, err)
	assert.True(t, ok)
	unlock2()
}

func TestDesiredComposesTemplateAndImage(t *testing.T) {
	plan, err := addressplan.Build(addressplan.Layout{Subnet: netip.MustParsePrefix("192.0.2.0/29"), BasePort: 8011, SlotsPerVM: 2, ContainerPort: 443}, nil)
	require.NoError(t, err)
	tmpl := writeDesired(t, agent.Desired{Plan: plan, Health: agent.HealthConfig{Port: 8000, Path: "/health"}})
	out := filepath.Join(t.TempDir(), "state", "desired.json")

	var stdout, stderr bytes.Buffer
	code := run([]string{"desired", "--template", tmpl, "--image", "myreg.azurecr.io/meeting-bot:v2", "--desired", out}, &stdout, &stderr)
	require.Equal(t, exitOK, code, stderr.String())
	d, err := agent.LoadDesired(out)
	require.NoError(t, err)
	assert.Equal(t, "myreg.azurecr.io/meeting-bot:v2", d.Image)
	assert.Equal(t, plan, d.Plan)

	stderr.Reset()
	code = run([]string{"desired", "--template", tmpl, "--desired", out}, &stdout, &stderr)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr.String(), "--image REF are required")
}
