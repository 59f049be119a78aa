package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botpool/botpool/config"
	"github.com/botpool/botpool/plan"
)

var update = flag.Bool("update", false, "rewrite the golden plans in testdata/")

// planCmd runs the command and returns its exit status, stdout and stderr.
func planCmd(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// The dev and prod plans, both formats, against testdata/<stack>.{txt,json}: a change
// to what a stack creates shows up in review as a diff of these files.
// Regenerate with `go test ./cmd/plan -update`.
func TestGolden(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		for _, format := range []string{"txt", "json"} {
			t.Run(stack+"."+format, func(t *testing.T) {
				args := []string{"--stack", stack}
				if format == "json" {
					args = append(args, "--json")
				}
				code, stdout, stderr := planCmd(t, args...)
				require.Equal(t, 0, code, stderr)
				require.Empty(t, stderr)
				golden := filepath.Join("testdata", stack+"."+format)
				if *update {
					require.NoError(t, os.WriteFile(golden, []byte(stdout), 0o644))
					return
				}
				want, err := os.ReadFile(golden)
				require.NoError(t, err, "run `go test ./cmd/plan -update` to create it")
				// assert.Equal prints a diff of the two.
				assert.Equal(t, string(want), stdout, "plan of %s changed: review the diff, then `go test ./cmd/plan -update`", stack)
			})
		}
	}
}

// The JSON has exactly the documented top-level shape (issue 3's keys plus "rollout", the
// deploy disruption), and every resource, bot and limit entry exactly its documented keys.
func TestJSONShape(t *testing.T) {
	code, stdout, stderr := planCmd(t, "--stack", "dev", "--json")
	require.Equal(t, 0, code, stderr)
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
	assert.ElementsMatch(t, []string{"project", "stack", "resources", "outputs", "bots", "limits", "rollout"}, keys(doc))
	assert.Equal(t, "botpool", doc["project"])
	assert.Equal(t, "dev", doc["stack"])
	for _, r := range doc["resources"].([]any) {
		assert.ElementsMatch(t, []string{"type", "name", "parent", "inputs"}, keys(r.(map[string]any)))
	}
	bots := doc["bots"].([]any)
	require.Len(t, bots, 11*4)
	assert.Equal(t, map[string]any{"ordinal": 0.0, "privateIp": "10.50.1.4", "slot": 0.0, "port": 8011.0,
		"address": "botpool-dev-bots.westeurope.cloudapp.azure.com:8011"}, bots[0])
	assert.Equal(t, map[string]any{
		"rulesPerNic":                 map[string]any{"used": 44.0, "max": 300.0},
		"rulesPerLoadBalancer":        map[string]any{"used": 44.0, "max": 1500.0},
		"backendIpConfigsPerFrontend": map[string]any{"used": 88.0, "max": 10000.0},
	}, doc["limits"])
	// dev: 2 VMs at 20% is one VM per batch, so one bot of 8 is down at a time.
	assert.Equal(t, map[string]any{"capacity": 2.0, "maxBatchInstancePercent": 20.0, "batchSize": 1.0,
		"batches": 2.0, "maxBotsOffline": 1.0, "articleBotsOffline": 8.0}, doc["rollout"])
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// --config reads any file of the stack file's shape: Pulumi.dev.yaml given by path plans
// exactly what --stack dev plans.
func TestConfigFlag(t *testing.T) {
	_, byStack, _ := planCmd(t, "--stack", "dev", "--json")
	code, byFile, stderr := planCmd(t, "--config", filepath.Join("..", "..", "Pulumi.dev.yaml"), "--json")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, byStack, byFile)
}

// An invalid config: exit status 1, nothing on stdout, and on stderr exactly the
// validation messages of config.Load, which is what the program returns under `pulumi up`.
func TestInvalidConfig(t *testing.T) {
	file := filepath.Join("testdata", "invalid.yaml")
	code, stdout, stderr := planCmd(t, "--config", file)
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)

	st, err := plan.ReadStackFile("botpool", "invalid", file)
	require.NoError(t, err)
	_, want := config.Load("invalid", plan.Source(st), plan.Options)
	require.Error(t, want)
	assert.Equal(t, want.Error()+"\n", stderr)
	assert.Equal(t, `invalid stack config for "invalid":
botpool:location = "West Europe": must be an Azure region name such as westeurope
botpool:adminUsername = "admin": is a name Azure reserves for Windows VMs
botpool:imageTag = ":latest": must be a valid Docker tag: up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'
`, stderr)

	// --json changes nothing about failures.
	code, stdout, _ = planCmd(t, "--config", file, "--json")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"--json"}, {"--stack"}, {"--stack", "dev", "extra"}, {"--bogus"}} {
		code, stdout, stderr := planCmd(t, args...)
		assert.Equal(t, 2, code, "%q", args)
		assert.Empty(t, stdout, "%q", args)
		assert.Contains(t, stderr, "usage: go run ./cmd/plan [--stack NAME | --config FILE] [--json]", "%q", args)
	}
	code, stdout, stderr := planCmd(t, "--stack", "nosuchstack")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "Pulumi.nosuchstack.yaml")
}

// A plan of dev with only imageTag changed differs from dev's plan only inside the inputs
// of the bot-host extension (its public settings name the image), plus the two outputs
// that are the tag: imageTag and imageReference. The address plan blob, the scale set and
// the load balancer do not change with the tag.
func TestImageTagChangesOnlyTheExtension(t *testing.T) {
	src := filepath.Join("..", "..", "Pulumi.dev.yaml")
	raw, err := os.ReadFile(src)
	require.NoError(t, err)
	const from, to = "botpool:imageTag: v1.0-175", "botpool:imageTag: v1.1-200"
	require.Equal(t, 1, strings.Count(string(raw), from), "Pulumi.dev.yaml no longer has %q", from)
	changed := filepath.Join(t.TempDir(), "Pulumi.dev.yaml")
	require.NoError(t, os.WriteFile(changed, []byte(strings.Replace(string(raw), from, to, 1)), 0o644))

	code, before, stderr := planCmd(t, "--stack", "dev", "--json")
	require.Equal(t, 0, code, stderr)
	code, after, stderr := planCmd(t, "--config", changed, "--json")
	require.Equal(t, 0, code, stderr)

	var a, b map[string]any
	require.NoError(t, json.Unmarshal([]byte(before), &a))
	require.NoError(t, json.Unmarshal([]byte(after), &b))
	diffs := diffPaths(a, b, "")
	require.NotEmpty(t, diffs)
	t.Logf("differences: %q", diffs)

	const extType = "azure-native:compute:VirtualMachineScaleSetExtension"
	allowed := map[string]bool{"/outputs/imageTag": true, "/outputs/imageReference": true}
	inExtension := 0
	resA, resB := a["resources"].([]any), b["resources"].([]any)
	require.Len(t, resB, len(resA))
	for i := range resA {
		ra, rb := resA[i].(map[string]any), resB[i].(map[string]any)
		require.Equal(t, ra["type"], rb["type"])
		require.Equal(t, ra["name"], rb["name"])
		if ra["type"] == extType {
			prefix := fmt.Sprintf("/resources/%d/inputs/", i)
			for _, d := range diffs {
				if strings.HasPrefix(d, prefix) {
					allowed[d] = true
					inExtension++
				}
			}
		}
	}
	for _, d := range diffs {
		assert.True(t, allowed[d], "changing only imageTag changed %s", d)
	}
	assert.Positive(t, inExtension, "the extension's inputs must carry the new tag")
	assert.Contains(t, diffs, "/outputs/imageTag")
	assert.Contains(t, diffs, "/outputs/imageReference")
}

// diffPaths lists the JSON-pointer-like paths where a and b differ.
func diffPaths(a, b any, path string) []string {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			return []string{path}
		}
		var out []string
		seen := map[string]bool{}
		for k := range av {
			seen[k] = true
			out = append(out, diffPaths(av[k], bv[k], path+"/"+k)...)
		}
		for k := range bv {
			if !seen[k] {
				out = append(out, path+"/"+k)
			}
		}
		sort.Strings(out)
		return out
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return []string{path}
		}
		var out []string
		for i := range av {
			out = append(out, diffPaths(av[i], bv[i], fmt.Sprintf("%s/%d", path, i))...)
		}
		return out
	}
	if !reflect.DeepEqual(a, b) {
		return []string{path}
	}
	return nil
}
