package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInvalidConfigsRegisterNothing runs the whole program on broken variants of the dev
// stack: each must fail with a message naming the key, the value and the rule, and must
// register no resource at all.
func TestInvalidConfigsRegisterNothing(t *testing.T) {
	cases := []struct {
		name    string
		set     map[string]string // "" deletes the key
		plain   []string          // keys given as plaintext instead of secure
		wantAll []string
	}{
		{"tag with a colon", map[string]string{"imageTag": "v1:2"}, nil,
			[]string{`botpool:imageTag = "v1:2"`, "valid Docker tag"}},
		{"tag starting with a dot", map[string]string{"imageTag": ".v1"}, nil,
			[]string{`botpool:imageTag = ".v1"`, "valid Docker tag"}},
		{"tag too long", map[string]string{"imageTag": strings.Repeat("a", 129)}, nil,
			[]string{"botpool:imageTag", "up to 128"}},
		{"missing tag", map[string]string{"imageTag": ""}, nil,
			[]string{"botpool:imageTag: is required"}},
		{"registry id not an ARM id", map[string]string{"registryId": "botpoolacr.azurecr.io"}, nil,
			[]string{`botpool:registryId = "botpoolacr.azurecr.io"`, "ARM ID of a container registry"}},
		{"registry id of another type", map[string]string{"registryId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/x"}, nil,
			[]string{"botpool:registryId", "Microsoft.ContainerRegistry/registries"}},
		{"registry id with a bad subscription", map[string]string{"registryId": "/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/x"}, nil,
			[]string{"botpool:registryId", "ARM ID of a container registry"}},
		{"missing vm size", map[string]string{"vmSize": ""}, nil,
			[]string{"botpool:vmSize: is required"}},
		{"vm size typo", map[string]string{"vmSize": "NV6ads_A10_v5"}, nil,
			[]string{`botpool:vmSize = "NV6ads_A10_v5"`, "Azure VM size"}},
		{"base port below 1024", map[string]string{"basePort": "80"}, nil,
			[]string{`botpool:basePort = "80"`, "between 1024 and 65535"}},
		{"port range past 65535", map[string]string{"basePort": "65500"}, nil,
			[]string{`botpool:basePort = "65500"`, "past 65535"}},
		{"port range covering RDP", map[string]string{"basePort": "3380"}, nil,
			[]string{`botpool:basePort = "3380"`, "3389 (RDP)"}},
		{"health port inside the bot ports", map[string]string{"healthPort": "8020"}, nil,
			[]string{`botpool:healthPort = "8020"`, "collides with the bot port range 8011-8054"}},
		{"slots not a number", map[string]string{"slotsPerVm": "four"}, nil,
			[]string{`botpool:slotsPerVm = "four"`, "whole number"}},
		{"capacity beyond the subnet", map[string]string{"capacity": "12"}, nil,
			[]string{`botpool:maxCapacity = "12"`, "at most 11, the usable addresses of subnetPrefix 10.50.1.0/28"}},
		{"maxCapacity below capacity", map[string]string{"maxCapacity": "1"}, nil,
			[]string{`botpool:maxCapacity = "1"`, "at least capacity (2)"}},
		{"subnet not CIDR", map[string]string{"subnetPrefix": "10.50.1.0"}, nil,
			[]string{`botpool:subnetPrefix = "10.50.1.0"`, "IPv4 CIDR"}},
		{"subnet with host bits", map[string]string{"subnetPrefix": "10.50.1.5/28"}, nil,
			[]string{`botpool:subnetPrefix = "10.50.1.5/28"`, "host bits"}},
		{"subnet outside the vnet", map[string]string{"subnetPrefix": "10.99.1.0/28"}, nil,
			[]string{`botpool:subnetPrefix = "10.99.1.0/28"`, "inside vnetAddressSpace 10.50.0.0/16"}},
		{"over rules per NIC", map[string]string{"subnetPrefix": "10.50.0.0/24", "slotsPerVm": "2"}, nil,
			[]string{"rules per NIC: 502 exceeds the Standard Load Balancer limit of 300", "driven by subnetPrefix, slotsPerVm"}},
		{"over backend IP configurations per frontend", map[string]string{"subnetPrefix": "10.50.0.0/26", "slotsPerVm": "5", "capacity": "20", "maxCapacity": "34"}, nil,
			// 59 addresses x 5 slots = 295 rules fit on a NIC; 295 x 34 VMs does not fit a frontend.
			[]string{"backend IP configurations per frontend: 10030 exceeds the Standard Load Balancer limit of 10000",
				"295 rules x 34 VMs (maxCapacity)", "driven by subnetPrefix, slotsPerVm, maxCapacity"}},
		{"missing admin password", map[string]string{"adminPassword": ""}, nil,
			[]string{"botpool:adminPassword: is required", "pulumi config set --secret"}},
		{"admin password in plaintext", nil, []string{"botpool:adminPassword"},
			[]string{`botpool:adminPassword = "[redacted]"`, "must be a secret"}},
		{"weak admin password", map[string]string{"adminPassword": "password"}, nil,
			[]string{`botpool:adminPassword = "[secret]"`, "12 to 123 characters"}},
		{"reserved admin user", map[string]string{"adminUsername": "Administrator"}, nil,
			[]string{`botpool:adminUsername = "Administrator"`, "reserves"}},
		{"env file not KEY=VALUE", map[string]string{"botEnv": "just some text"}, nil,
			[]string{`botpool:botEnv = "[secret]"`, "line 1 is not KEY=VALUE"}},
		{"missing location", map[string]string{"location": ""}, nil,
			[]string{"botpool:location: is required"}},
		{"bad dns label", map[string]string{"dnsLabel": "Bots_Dev"}, nil,
			[]string{`botpool:dnsLabel = "Bots_Dev"`, "cloudapp.azure.com"}},
		{"image source of the wrong type", map[string]string{"imageSourceId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/disks/d"}, nil,
			[]string{"botpool:imageSourceId", "managed image"}},
		{"rollout batch over unhealthy limit", map[string]string{"maxBatchInstancePercent": "50"}, nil,
			[]string{`botpool:maxUnhealthyInstancePercent = "20"`, "at least maxBatchInstancePercent (50)"}},
		{"repair grace period too short", map[string]string{"repairGracePeriod": "PT5M"}, nil,
			[]string{`botpool:repairGracePeriod = "PT5M"`, "between PT10M and PT90M"}},
		{"pause not a duration", map[string]string{"pauseTimeBetweenBatches": "30s"}, nil,
			[]string{`botpool:pauseTimeBetweenBatches = "30s"`, "ISO 8601"}},
		{"wildcard source", map[string]string{"allowedSourceAddressPrefixes": "*"}, nil,
			[]string{`botpool:allowedSourceAddressPrefixes = "*"`, "without \"*\""}},
	}
	require.GreaterOrEqual(t, len(cases), 15)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, secrets := stackConfig(t, "dev")
			for k, v := range c.set {
				if v == "" {
					delete(cfg, "botpool:"+k)
				} else {
					cfg["botpool:"+k] = v
				}
			}
			for _, k := range c.plain {
				var kept []string
				for _, s := range secrets {
					if s != k {
						kept = append(kept, s)
					}
				}
				secrets = kept
			}
			rec, _, err := run(t, "dev", cfg, secrets)
			require.Error(t, err)
			for _, want := range c.wantAll {
				assert.Contains(t, err.Error(), want)
			}
			assert.Empty(t, rec.Resources(), "an invalid config must register nothing")
			// No secret ever appears in an error.
			assert.NotContains(t, err.Error(), testSecrets["botpool:adminPassword"])
			assert.NotContains(t, err.Error(), "MEETING_API_KEY")
		})
	}
}
