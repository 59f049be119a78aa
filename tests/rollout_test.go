package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	az "github.com/botpool/botpool/azurenative"
)

func TestRollingUpgradeAndRepairs(t *testing.T) {
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			rec, _ := runStack(t, stack)
			cfg, _ := stackConfig(t, stack)
			want := func(key string, def int) float64 {
				if v, ok := cfg["botpool:"+key]; ok {
					return float64(mustAtoi(t, v))
				}
				return float64(def)
			}
			in := inputs(one(t, rec, az.ScaleSet))
			assert.Equal(t, "Rolling", at(t, in, "upgradePolicy", "mode"))
			r := at(t, in, "upgradePolicy", "rollingUpgradePolicy").(map[string]any)
			assert.Equal(t, want("maxBatchInstancePercent", 20), r["maxBatchInstancePercent"])
			assert.Equal(t, want("maxUnhealthyInstancePercent", 20), r["maxUnhealthyInstancePercent"])
			assert.Equal(t, want("maxUnhealthyUpgradedInstancePercent", 20), r["maxUnhealthyUpgradedInstancePercent"])
			pause := cfg["botpool:pauseTimeBetweenBatches"]
			if pause == "" {
				pause = "PT0S"
			}
			assert.Equal(t, pause, r["pauseTimeBetweenBatches"])
			assert.Equal(t, true, r["prioritizeUnhealthyInstances"])

			grace := cfg["botpool:repairGracePeriod"]
			if grace == "" {
				grace = "PT45M"
			}
			assert.Equal(t, map[string]any{"enabled": true, "gracePeriod": grace, "repairAction": "Replace"}, in["automaticRepairsPolicy"])

			// The Application Health extension reads the agent's endpoint.
			exts := at(t, in, "virtualMachineProfile", "extensionProfile", "extensions").([]any)
			require.Len(t, exts, 1)
			h := exts[0].(map[string]any)
			assert.Equal(t, "Microsoft.ManagedServices", h["publisher"])
			assert.Equal(t, "ApplicationHealthWindows", h["type"])
			assert.Equal(t, map[string]any{"protocol": "http", "port": float64(8000), "requestPath": "/healthz",
				"intervalInSeconds": float64(10), "numberOfProbes": float64(3), "gracePeriod": float64(600)}, h["settings"])

			// The agent serves the same port and path.
			tmpl := shippedTemplate(t, rec)
			assert.Equal(t, 8000, tmpl.Health.Port)
			assert.Equal(t, "/healthz", tmpl.Health.Path)
		})
	}
}

func TestHealthPortIsNotExposed(t *testing.T) {
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			rec, _ := runStack(t, stack)
			health := shippedTemplate(t, rec).Health.Port
			lb := inputs(one(t, rec, az.LoadBalancer))
			for _, r := range lb["loadBalancingRules"].([]any) {
				assert.NotEqual(t, float64(health), r.(map[string]any)["frontendPort"])
				assert.NotEqual(t, float64(health), r.(map[string]any)["backendPort"])
			}
			for _, p := range lb["probes"].([]any) {
				assert.NotEqual(t, float64(health), p.(map[string]any)["port"])
			}
			nsg := inputs(one(t, rec, az.NetworkSecurityGroup))
			for _, r := range nsg["securityRules"].([]any) {
				open := expandPorts(t, r.(map[string]any)["destinationPortRanges"].([]any))
				assert.False(t, open[health], "health port %d open in %v", health, r)
			}
		})
	}
}

func TestAgentShipsBesideTheScriptAndItsHashIsInTheSettings(t *testing.T) {
	rec, _ := runStack(t, "dev")
	ext := inputs(one(t, rec, az.ScaleSetExtension))
	uris := at(t, ext, "settings", "fileUris").([]any)
	require.Len(t, uris, 3)
	agentName := at(t, ext, "settings", "botpool", "agent").(string)
	assert.Regexp(t, `^botagent-[0-9a-f]{12}\.exe$`, agentName)
	assert.True(t, strings.HasSuffix(uris[2].(string), "/bothost/"+agentName))
	found := false
	for _, b := range byType(rec, az.Blob) {
		if inputs(b)["blobName"] == agentName {
			found = true
		}
	}
	assert.True(t, found, "agent blob %s uploaded", agentName)
	cmd := at(t, ext, "protectedSettings", "commandToExecute").(string)
	assert.Contains(t, cmd, "-Agent "+agentName)
}

func TestDrainEndpointReachesTheAgent(t *testing.T) {
	cfg, secrets := stackConfig(t, "dev")
	cfg["botpool:drainPath"] = "/api/drain"
	cfg["botpool:drainTimeoutSeconds"] = "120"
	rec, _, err := run(t, "dev", cfg, secrets)
	require.NoError(t, err)
	d := shippedTemplate(t, rec)
	require.NotNil(t, d.Drain)
	assert.Equal(t, "/api/drain", d.Drain.Path)
	assert.Equal(t, 120, d.Drain.TimeoutSeconds)

	rec, _ = runStack(t, "dev")
	assert.Nil(t, shippedTemplate(t, rec).Drain, "no drain unless configured")
}
