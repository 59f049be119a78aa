package tests

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botpool/botpool/addressplan"
	"github.com/botpool/botpool/agent"
	az "github.com/botpool/botpool/azurenative"
	"github.com/botpool/botpool/mockcloud"
)

var stacks = []string{"dev", "prod"}

// byType returns the recorded resources of one type token.
func byType(rec *mockcloud.Recorder, token az.Token) []mockcloud.Resource {
	var out []mockcloud.Resource
	for _, r := range rec.Resources() {
		if r.Type == string(token) {
			out = append(out, r)
		}
	}
	return out
}

func one(t *testing.T, rec *mockcloud.Recorder, token az.Token) mockcloud.Resource {
	t.Helper()
	rs := byType(rec, token)
	require.Len(t, rs, 1, "expected exactly one %s", token)
	return rs[0]
}

// plain unwraps secrets and outputs down to a Go value.
func plain(v resource.PropertyValue) any {
	for {
		switch {
		case v.IsSecret():
			v = v.SecretValue().Element
			continue
		case v.IsOutput():
			v = v.OutputValue().Element
			continue
		}
		break
	}
	switch {
	case v.IsObject():
		m := map[string]any{}
		for k, e := range v.ObjectValue() {
			m[string(k)] = plain(e)
		}
		return m
	case v.IsArray():
		var a []any
		for _, e := range v.ArrayValue() {
			a = append(a, plain(e))
		}
		return a
	case v.IsAsset():
		return v.AssetValue().Text
	}
	return v.V
}

func inputs(r mockcloud.Resource) map[string]any {
	return plain(resource.NewObjectProperty(r.Inputs)).(map[string]any)
}

// at walks a path of map keys and array indexes.
func at(t *testing.T, v any, path ...string) any {
	t.Helper()
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			v, ok = x[p]
			require.True(t, ok, "missing %q in path %v", p, path)
		case []any:
			i, err := strconv.Atoi(p)
			require.NoError(t, err)
			require.Less(t, i, len(x))
			v = x[i]
		default:
			t.Fatalf("cannot index %T with %q (path %v)", v, p, path)
		}
	}
	return v
}

// shippedTemplate is the desired-state template the program uploads for the VMs.
func shippedTemplate(t *testing.T, rec *mockcloud.Recorder) agent.Desired {
	t.Helper()
	for _, b := range byType(rec, az.Blob) {
		in := inputs(b)
		if strings.HasPrefix(in["blobName"].(string), "desired-") {
			var d agent.Desired
			require.NoError(t, json.Unmarshal([]byte(in["source"].(string)), &d))
			return d
		}
	}
	t.Fatal("no desired-state template blob registered")
	return agent.Desired{}
}

// shippedPlan is the address plan inside the template.
func shippedPlan(t *testing.T, rec *mockcloud.Recorder) addressplan.Plan {
	return shippedTemplate(t, rec).Plan
}

func botPorts(p addressplan.Plan) map[int]bool {
	ports := map[int]bool{}
	for _, h := range p.Hosts {
		for _, b := range h.Bots {
			ports[b.Port] = true
		}
	}
	return ports
}

func TestEveryBotPortHasExactlyOneProbeAndOneRule(t *testing.T) {
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			rec, _ := runStack(t, stack)
			ports := botPorts(shippedPlan(t, rec))
			lb := inputs(one(t, rec, az.LoadBalancer))

			probePort := map[string]float64{}
			for _, p := range lb["probes"].([]any) {
				p := p.(map[string]any)
				assert.Equal(t, "Tcp", p["protocol"])
				probePort[p["name"].(string)] = p["port"].(float64)
			}
			rulesPerPort := map[int]int{}
			probeUses := map[string]int{}
			for _, r := range lb["loadBalancingRules"].([]any) {
				r := r.(map[string]any)
				fe, be := int(r["frontendPort"].(float64)), int(r["backendPort"].(float64))
				assert.Equal(t, fe, be, "rule %s: frontend port must equal backend port", r["name"])
				rulesPerPort[fe]++
				probeID := at(t, r, "probe", "id").(string)
				probeName := probeID[strings.LastIndex(probeID, "/probes/")+len("/probes/"):]
				require.Contains(t, probePort, probeName, "rule %s uses an unknown probe", r["name"])
				assert.Equal(t, float64(fe), probePort[probeName], "rule %s probes another port", r["name"])
				probeUses[probeName]++
			}
			assert.Len(t, rulesPerPort, len(ports))
			for port := range ports {
				assert.Equal(t, 1, rulesPerPort[port], "port %d", port)
			}
			assert.Len(t, probePort, len(ports), "one probe per bot port")
			for name, n := range probeUses {
				assert.Equal(t, 1, n, "probe %s used by %d rules", name, n)
			}
		})
	}
}

func TestPlanCoversEveryUsableAddressWithDisjointPorts(t *testing.T) {
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			rec, _ := runStack(t, stack)
			cfg, _ := stackConfig(t, stack)
			p := shippedPlan(t, rec)
			subnet := netip.MustParsePrefix(cfg["botpool:subnetPrefix"])
			usable, err := addressplan.UsableAddresses(subnet)
			require.NoError(t, err)
			require.Len(t, p.Hosts, len(usable), "the plan must cover every usable address")

			owner := map[int]string{}
			names := map[string]bool{}
			for i, h := range p.Hosts {
				assert.Equal(t, usable[i].String(), h.PrivateIP)
				assert.Len(t, h.Bots, mustAtoi(t, cfg["botpool:slotsPerVm"]))
				for _, b := range h.Bots {
					if prev, dup := owner[b.Port]; dup {
						t.Errorf("port %d served by both %s and %s", b.Port, prev, h.PrivateIP)
					}
					owner[b.Port] = h.PrivateIP
					assert.False(t, names[b.Name], "container name %s reused", b.Name)
					names[b.Name] = true
				}
			}
			// The flags the issue and article require, on every container.
			assert.Equal(t, []string{"--restart", "always", "--isolation", "process", "--device",
				"class/5B45201D-F2F2-4F3B-85BB-30FF1F953599"}, p.RunArgs)
		})
	}
}

func mustAtoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

// expandPorts turns "8011-8054" and "8031" into the set of ports.
func expandPorts(t *testing.T, ranges []any) map[int]bool {
	set := map[int]bool{}
	for _, r := range ranges {
		lo, hi, found := strings.Cut(r.(string), "-")
		if !found {
			hi = lo
		}
		for p := mustAtoi(t, lo); p <= mustAtoi(t, hi); p++ {
			set[p] = true
		}
	}
	return set
}

func TestNSGAdmitsExactlyTheBotPorts(t *testing.T) {
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			rec, _ := runStack(t, stack)
			nsg := inputs(one(t, rec, az.NetworkSecurityGroup))
			allowed := map[int]bool{}
			for _, r := range nsg["securityRules"].([]any) {
				r := r.(map[string]any)
				if r["direction"] != "Inbound" || r["access"] != "Allow" {
					continue
				}
				assert.NotContains(t, r, "destinationPortRange", "a single range would hide a wildcard")
				for p := range expandPorts(t, r["destinationPortRanges"].([]any)) {
					allowed[p] = true
				}
				assert.Equal(t, []any{"Internet"}, r["sourceAddressPrefixes"])
			}
			assert.Equal(t, botPorts(shippedPlan(t, rec)), allowed)
			for _, closed := range []int{3389, 5985, 5986, 8000} {
				assert.False(t, allowed[closed], "port %d must stay closed", closed)
			}
			// The subnet carries the NSG.
			vnet := inputs(one(t, rec, az.VirtualNetwork))
			assert.Equal(t, mockcloud.ID("botpool-"+stack+"-network-nsg"), at(t, vnet, "subnets", "0", "networkSecurityGroup", "id"))
		})
	}
}

func TestScaleSetIdentityAndAcrPull(t *testing.T) {
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			rec, _ := runStack(t, stack)
			cfg, _ := stackConfig(t, stack)
			vmss := one(t, rec, az.ScaleSet)
			in := inputs(vmss)
			assert.Equal(t, "SystemAssigned", at(t, in, "identity", "type"))
			assert.Equal(t, false, in["overprovision"])

			var acr map[string]any
			for _, ra := range byType(rec, az.RoleAssignment) {
				if strings.HasSuffix(inputs(ra)["roleDefinitionId"].(string), "/7f951dda-4ed3-4680-a7ca-43fe172d538d") {
					require.Nil(t, acr, "one AcrPull assignment")
					acr = inputs(ra)
				}
			}
			require.NotNil(t, acr, "AcrPull assignment")
			assert.Equal(t, cfg["botpool:registryId"], acr["scope"])
			assert.Equal(t, "ServicePrincipal", acr["principalType"])
			// The mock gives each scale set a principal derived from its name; the assignment
			// must carry exactly that output, not a constant.
			assert.Equal(t, mockPrincipal(vmss.Name), acr["principalId"])
		})
	}
}

// mockPrincipal is the principal ID the mock monitor gives the named scale set.
func mockPrincipal(vmssName string) string {
	_, state, _ := (&mockcloud.Recorder{}).NewResource(pulumi.MockResourceArgs{TypeToken: string(az.ScaleSet), Name: vmssName})
	return state["identity"].ObjectValue()["principalId"].StringValue()
}

func TestExtensionCarriesTheImageTagAndKeepsSecretsProtected(t *testing.T) {
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			rec, outs := runStack(t, stack)
			cfg, _ := stackConfig(t, stack)
			ext := one(t, rec, az.ScaleSetExtension)
			in := inputs(ext)
			assert.Equal(t, "Microsoft.Compute", in["publisher"])
			assert.Equal(t, "CustomScriptExtension", in["type"])
			assert.Equal(t, "1.10", in["typeHandlerVersion"])
			want := "botpoolacr.azurecr.io/meeting-bot:" + cfg["botpool:imageTag"]
			assert.Equal(t, want, at(t, in, "settings", "botpool", "image"))
			assert.Equal(t, want, outs["imageReference"])

			// Everything secret travels only in protectedSettings, marked secret.
			require.True(t, ext.Inputs["protectedSettings"].IsSecret(), "protectedSettings must be secret")
			cmd := at(t, in, "protectedSettings", "commandToExecute").(string)
			assert.Contains(t, cmd, "-Image "+want)
			assert.Contains(t, cmd, "-EnvFileBase64 ")
			assert.Equal(t, map[string]any{}, at(t, in, "protectedSettings", "managedIdentity"))
			settingsJSON, _ := json.Marshal(in["settings"])
			assert.NotContains(t, string(settingsJSON), "MEETING_API_KEY")
			assert.NotContains(t, string(settingsJSON), "EnvFileBase64")

			vmss := one(t, rec, az.ScaleSet)
			pw := vmss.Inputs["virtualMachineProfile"].ObjectValue()["osProfile"].ObjectValue()["adminPassword"]
			assert.True(t, pw.IsSecret() || (pw.IsOutput() && pw.OutputValue().Secret), "admin password must be secret")
		})
	}
}

// TestImageTagChangesOnlyTheExtension compares every recorded input of two runs that differ
// only in imageTag: a deploy must touch nothing but the extension's settings.
func TestImageTagChangesOnlyTheExtension(t *testing.T) {
	cfg, secrets := stackConfig(t, "dev")
	before, _, err := run(t, "dev", cfg, secrets)
	require.NoError(t, err)
	cfg["botpool:imageTag"] = "v2.0-200"
	after, _, err := run(t, "dev", cfg, secrets)
	require.NoError(t, err)

	a, b := before.Resources(), after.Resources()
	require.Equal(t, len(a), len(b))
	changed := 0
	for i := range a {
		require.Equal(t, a[i].Type+" "+a[i].Name, b[i].Type+" "+b[i].Name)
		if reflect.DeepEqual(inputs(a[i]), inputs(b[i])) {
			continue
		}
		changed++
		assert.Equal(t, string(az.ScaleSetExtension), a[i].Type, "%s %s changed with the image tag", a[i].Type, a[i].Name)
	}
	assert.Equal(t, 1, changed, "the extension must change")
}
