package plan_test

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botpool/botpool/config"
	"github.com/botpool/botpool/mockcloud"
	"github.com/botpool/botpool/plan"
	"github.com/botpool/botpool/program"
	"github.com/botpool/botpool/rollout"
)

// stack reads Pulumi.<name>.yaml of the project this package sits in.
func stack(t testing.TB, name string) mockcloud.Stack {
	t.Helper()
	dir, err := plan.FindProjectDir(".")
	require.NoError(t, err)
	project, err := plan.ProjectName(dir)
	require.NoError(t, err)
	require.Equal(t, "botpool", project)
	st, err := plan.ReadStackFile(project, name, plan.StackFile(dir, name))
	require.NoError(t, err)
	return st
}

func runPlan(t testing.TB, st mockcloud.Stack) *plan.Result {
	t.Helper()
	res, err := plan.Run(st)
	require.NoError(t, err)
	return res
}

// Real-looking secret values: what a deploy would have where the plan has placeholders.
var realSecrets = map[string]string{
	"botpool:adminPassword": "Corr3ct-Horse-Battery!",
	"botpool:botEnv":        "MEETING_API_KEY=abc123\nLOG_LEVEL=info\n",
}

// The plan reports exactly what program.New registers: one code path, not a copy. The
// same config run through program.New directly under mockcloud records the same
// resources, with the same parents and inputs; and a run with real secret values (the
// way `pulumi up` validates them) renders identically, so nothing derived from a secret
// shows in a plan unmasked.
func TestPlanRegistersWhatTheProgramRegisters(t *testing.T) {
	for _, name := range []string{"dev", "prod"} {
		t.Run(name, func(t *testing.T) {
			st := stack(t, name)
			res := runPlan(t, st)

			direct, err := mockcloud.Run(st, program.New(config.Options{OpaqueSecrets: true}))
			require.NoError(t, err)
			want := direct.Resources()
			require.Len(t, res.Recorded, len(want))
			require.Len(t, res.Resources, len(want))
			for i, w := range want {
				got := res.Recorded[i]
				assert.Equal(t, w.Type, got.Type)
				assert.Equal(t, w.Name, got.Name)
				assert.Equal(t, w.Parent, got.Parent)
				assert.Equal(t, w.Custom, got.Custom)
				assert.True(t, w.Inputs.DeepEquals(got.Inputs), "%s %s: inputs differ", w.Type, w.Name)
				assert.Equal(t, plan.Resource{Type: w.Type, Name: w.Name, Parent: w.Parent, Inputs: plan.RenderInputs(w.Inputs)},
					res.Resources[i])
			}

			real := mockcloud.Stack{Project: st.Project, Name: st.Name, Config: map[string]string{}, SecretKeys: st.SecretKeys}
			for k, v := range st.Config {
				real.Config[k] = v
			}
			for _, k := range st.SecretKeys {
				require.Contains(t, realSecrets, k)
				real.Config[k] = realSecrets[k]
			}
			withSecrets, err := mockcloud.Run(real, program.New(config.Options{}))
			require.NoError(t, err)
			rendered := withSecrets.Resources()
			require.Len(t, rendered, len(res.Resources))
			for i, w := range rendered {
				assert.Equal(t, plan.Resource{Type: w.Type, Name: w.Name, Parent: w.Parent, Inputs: plan.RenderInputs(w.Inputs)},
					res.Resources[i], "%s %s renders differently with real secrets", w.Type, w.Name)
			}
		})
	}
}

// The plan package declares no resources of its own: no Register* call in its source.
func TestPlanDeclaresNothing(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		ast.Inspect(file, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && strings.HasPrefix(sel.Sel.Name, "Register") {
				t.Errorf("%s: %s calls %s: the plan must only run program.New", fset.Position(sel.Pos()), f, sel.Sel.Name)
			}
			return true
		})
		for _, imp := range file.Imports {
			assert.NotContains(t, imp.Path.Value, "/azurenative", "%s imports azurenative", f)
		}
	}
}

// Secrets render as "[secret]": the admin password inside the scale set's osProfile and
// the extension's whole protectedSettings; the placeholder never appears.
func TestSecretsAreMasked(t *testing.T) {
	res := runPlan(t, stack(t, "dev"))
	byType := map[string]plan.Resource{}
	for _, r := range res.Resources {
		byType[r.Type] = r
	}
	vmss := byType["azure-native:compute:VirtualMachineScaleSet"]
	os := vmss.Inputs["virtualMachineProfile"].(map[string]any)["osProfile"].(map[string]any)
	assert.Equal(t, plan.SecretText, os["adminPassword"])
	assert.Equal(t, "botadmin", os["adminUsername"])
	ext := byType["azure-native:compute:VirtualMachineScaleSetExtension"]
	assert.Equal(t, plan.SecretText, ext.Inputs["protectedSettings"])

	js, err := res.JSON()
	require.NoError(t, err)
	assert.NotContains(t, string(js), plan.SecretPlaceholder)
	assert.NotContains(t, string(res.Text()), plan.SecretPlaceholder)

	// Assets render as their content's hash and size.
	blob := byType["azure-native:storage:Blob"]
	asset := blob.Inputs["source"].(map[string]any)["asset"].(map[string]any)
	assert.Len(t, asset["sha256"], 64)
	assert.Greater(t, asset["size"], 0)
}

// Mock registrations arrive concurrently: the JSON and the text are still byte-for-byte
// the same on every run.
func TestDeterministic(t *testing.T) {
	st := stack(t, "prod")
	first := runPlan(t, st)
	wantJSON, err := first.JSON()
	require.NoError(t, err)
	wantText := first.Text()
	for i := 0; i < 5; i++ {
		res := runPlan(t, st)
		js, err := res.JSON()
		require.NoError(t, err)
		require.True(t, bytes.Equal(wantJSON, js), "run %d: JSON differs", i)
		require.True(t, bytes.Equal(wantText, res.Text()), "run %d: text differs", i)
	}
}

// The address book and limits of prod: every slot of every usable address of the /27,
// and <pool address>:8031 is the first bot on the VM with the subnet's third usable address.
func TestProdAddressBookAndLimits(t *testing.T) {
	res := runPlan(t, stack(t, "prod"))
	require.Len(t, res.Bots, 27*10)
	assert.Equal(t, plan.Bot{Ordinal: 0, PrivateIP: "10.60.1.4", Slot: 0, Port: 8011,
		Address: "botpool-prod-bots.westeurope.cloudapp.azure.com:8011"}, res.Bots[0])
	assert.Equal(t, plan.Bot{Ordinal: 2, PrivateIP: "10.60.1.6", Slot: 0, Port: 8031,
		Address: "botpool-prod-bots.westeurope.cloudapp.azure.com:8031"}, res.Bots[20])
	assert.Equal(t, plan.Bot{Ordinal: 26, PrivateIP: "10.60.1.30", Slot: 9, Port: 8280,
		Address: "botpool-prod-bots.westeurope.cloudapp.azure.com:8280"}, res.Bots[269])
	assert.Equal(t, plan.Limits{
		RulesPerNIC:                 plan.Limit{Used: 270, Max: 300},
		RulesPerLoadBalancer:        plan.Limit{Used: 270, Max: 1500},
		BackendIPConfigsPerFrontend: plan.Limit{Used: 270 * 27, Max: 10000},
	}, res.Limits)
	assert.Equal(t, "botpool-prod-bots.westeurope.cloudapp.azure.com", res.Outputs["poolAddress"])
	assert.Equal(t, "8011-8280", res.Outputs["botPorts"])
}

// An invalid config fails with exactly config.Load's message (what `pulumi up` prints),
// not wrapped by the Pulumi runner.
func TestInvalidConfigError(t *testing.T) {
	st := stack(t, "dev")
	st.Config["botpool:location"] = "West Europe"
	st.Config["botpool:slotsPerVm"] = "many"
	_, err := plan.Run(st)
	require.Error(t, err)
	_, want := config.Load("dev", plan.Source(st), plan.Options)
	require.Error(t, want)
	assert.Equal(t, want.Error(), err.Error())
	assert.Contains(t, err.Error(), "\nbotpool:location = \"West Europe\": must be an Azure region name")
	assert.Contains(t, err.Error(), "\nbotpool:slotsPerVm = \"many\": must be a whole number")
}

func TestParseStackConfig(t *testing.T) {
	cfg, secrets, err := plan.ParseStackConfig("botpool", []byte(`
config:
  botpool:capacity: 3
  botpool:prioritizeUnhealthyInstances: false
  botpool:imageTag: "007"
  location: westeurope
  azure-native:location: northeurope
  botpool:adminPassword:
    secure: AAABAD==
`))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"botpool:capacity":                     "3",
		"botpool:prioritizeUnhealthyInstances": "false",
		"botpool:imageTag":                     "007",
		"botpool:location":                     "westeurope",
		"azure-native:location":                "northeurope",
		"botpool:adminPassword":                plan.SecretPlaceholder,
	}, cfg)
	assert.Equal(t, []string{"botpool:adminPassword"}, secrets)

	_, _, err = plan.ParseStackConfig("botpool", []byte("config:\n  botpool:tags:\n    team: bots\n  botpool:list: [a, b]\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "botpool:tags: only scalar values and `secure:` values are supported")
	assert.Contains(t, err.Error(), "botpool:list: only scalar values")

	_, _, err = plan.ParseStackConfig("botpool", []byte("config: [\n"))
	require.Error(t, err)
}

func TestStackNames(t *testing.T) {
	assert.Equal(t, "prod", plan.StackNameFromFile("/x/Pulumi.prod.yaml"))
	assert.Equal(t, "my-change", plan.StackNameFromFile("my-change.yaml"))
	dir, err := plan.FindProjectDir(".")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, "Pulumi.yaml"))
	require.NoError(t, err)
	_, err = plan.FindProjectDir(t.TempDir())
	require.Error(t, err)
}

// Nothing in a plan depends on the machine that ran it: no path of the checkout or of
// the user's cache (where the program builds the host agent) appears, so the goldens
// hold on every machine.
func TestPlanIsMachineIndependent(t *testing.T) {
	res := runPlan(t, stack(t, "dev"))
	js, err := res.JSON()
	require.NoError(t, err)
	root, err := plan.FindProjectDir(".")
	require.NoError(t, err)
	cache, err := os.UserCacheDir()
	require.NoError(t, err)
	for _, out := range [][]byte{js, res.Text()} {
		assert.NotContains(t, string(out), root)
		assert.NotContains(t, string(out), cache)
	}
	assert.Contains(t, string(js), `"file": "botagent-`)
}

// The deploy disruption follows the stack's capacity and maxBatchInstancePercent.
func TestRolloutDisruption(t *testing.T) {
	cases := []struct {
		name, percent string
		want          plan.Rollout
	}{
		{"prod default 20%", "", plan.Rollout{Capacity: 20, MaxBatchInstancePercent: 20, Disruption: rollout.Disruption{BatchSize: 4, Batches: 5, MaxBotsOffline: 4, ArticleBotsOffline: 200}}},
		{"prod at 50%", "50", plan.Rollout{Capacity: 20, MaxBatchInstancePercent: 50, Disruption: rollout.Disruption{BatchSize: 10, Batches: 2, MaxBotsOffline: 10, ArticleBotsOffline: 200}}},
		{"prod at 5%", "5", plan.Rollout{Capacity: 20, MaxBatchInstancePercent: 5, Disruption: rollout.Disruption{BatchSize: 1, Batches: 20, MaxBotsOffline: 1, ArticleBotsOffline: 200}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := stack(t, "prod")
			if c.percent != "" {
				st.Config["botpool:maxBatchInstancePercent"] = c.percent
				st.Config["botpool:maxUnhealthyInstancePercent"] = "100"
			}
			assert.Equal(t, c.want, runPlan(t, st).Rollout)
		})
	}
}
