package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func validValues() map[string]string {
	return map[string]string{
		"location":        "westeurope",
		"vmSize":          "Standard_NV6ads_A10_v5",
		"registryId":      "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-shared/providers/Microsoft.ContainerRegistry/registries/BotpoolAcr",
		"imageSourceId":   "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-img/providers/Microsoft.Compute/images/gpu",
		"imageRepository": "meeting-bot",
		"imageTag":        "v1.0-175",
		"adminPassword":   "Corr3ct-Horse-Battery!",
	}
}

func load(values map[string]string, secrets ...string) (*Config, error) {
	s := map[string]bool{"adminPassword": true, "botEnv": true}
	for _, k := range secrets {
		s[k] = true
	}
	return Load("dev", MapSource{Values: values, Secrets: s}, Options{})
}

func TestDefaults(t *testing.T) {
	c, err := load(validValues())
	require.NoError(t, err)
	assert.Equal(t, "botpool-dev", c.NamePrefix)
	assert.Equal(t, "rg-botpool-dev", c.ResourceGroupName)
	assert.True(t, c.CreateResourceGroup)
	assert.Equal(t, "botpoolacr.azurecr.io", c.Bots.RegistryLoginServer, "derived from the registry name, lowercased")
	assert.Equal(t, "botpoolacr.azurecr.io/meeting-bot:v1.0-175", c.Bots.ImageRef())
	assert.Equal(t, "10.50.1.0/27", c.Network.SubnetPrefix.String())
	assert.Equal(t, 2, c.Pool.Capacity)
	assert.Equal(t, 2, c.Pool.MaxCapacity)
	assert.Equal(t, []string{"Internet"}, c.Network.AllowedSources)
	assert.Equal(t, 8011, c.Bots.BasePort)
	assert.Equal(t, 4, c.Bots.SlotsPerVM)
	assert.Equal(t, 20, c.Rollout.MaxBatchInstancePercent)
	assert.Equal(t, "PT45M", c.Health.RepairGracePeriod)
	// 27 addresses x 4 slots, every rule on every NIC, times 2 VMs per frontend.
	u := c.Usage()
	assert.Equal(t, 108, u.RulesPerNIC)
	assert.Equal(t, 216, u.BackendIPConfigsPerFrontend)
}

func TestExistingResources(t *testing.T) {
	v := validValues()
	v["existingResourceGroupName"] = "rg-team-bots"
	v["existingSubnetId"] = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/hub/subnets/bots"
	v["subnetPrefix"] = "10.1.2.0/28"
	delete(v, "imageSourceId")
	v["existingImageVersionId"] = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-img/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0"
	c, err := load(v)
	require.NoError(t, err)
	assert.False(t, c.CreateResourceGroup)
	assert.Equal(t, "rg-team-bots", c.ResourceGroupName)
	assert.Equal(t, "10.1.2.0/28", c.Network.SubnetPrefix.String())
	assert.False(t, c.Network.VnetAddressSpace.IsValid(), "no vnet is created")

	delete(v, "subnetPrefix")
	_, err = load(v)
	assert.ErrorContains(t, err, "botpool:subnetPrefix: is required with existingSubnetId")
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	v := validValues()
	v["imageTag"] = "bad tag"
	v["capacity"] = "many"
	delete(v, "location")
	_, err := load(v)
	require.Error(t, err)
	for _, want := range []string{`botpool:imageTag = "bad tag"`, `botpool:capacity = "many"`, "botpool:location: is required"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestOpaqueSecretsSkipContentRules(t *testing.T) {
	v := validValues()
	v["adminPassword"] = "[secret]"
	v["botEnv"] = "[secret]"
	_, err := Load("dev", MapSource{Values: v, Secrets: map[string]bool{"adminPassword": true, "botEnv": true}}, Options{OpaqueSecrets: true})
	assert.NoError(t, err)
	_, err = Load("dev", MapSource{Values: v, Secrets: map[string]bool{"adminPassword": true, "botEnv": true}}, Options{})
	assert.ErrorContains(t, err, "botpool:adminPassword")
}

func TestRules(t *testing.T) {
	cases := []struct {
		key, value, want string
	}{
		{"imageTag", "latest", ""},
		{"imageTag", "v1.0_rc-1", ""},
		{"imageTag", "-v1", "valid Docker tag"},
		{"imageTag", "v1/2", "valid Docker tag"},
		{"imageRepository", "Meeting-Bot", "lowercase repository path"},
		{"imageRepository", "bots/meeting-bot", ""},
		{"allowedSourceAddressPrefixes", "203.0.113.0/24, AzureCloud", ""},
		{"allowedSourceAddressPrefixes", "203.0.113.300/24", "neither a service tag nor an IPv4"},
		{"slotsPerVm", "0", "between 1 and 300"},
		{"containerPort", "70000", "between 1 and 65535"},
		{"healthPath", "healthz", "absolute URL path"},
		{"prioritizeUnhealthyInstances", "maybe", "true or false"},
		{"repairGracePeriod", "PT1H", ""},
		{"repairGracePeriod", "PT2H", "between PT10M and PT90M"},
		{"storageAccountName", "Bots-Storage", "3-24 lowercase"},
		{"namePrefix", "1pool", "starting with a letter"},
		{"imageHyperVGeneration", "V3", "V1 or V2"},
		{"imageVersion", "1.0", "MAJOR.MINOR.PATCH"},
		{"registryLoginServer", "https://x.azurecr.io", "registry host name"},
	}
	for _, c := range cases {
		t.Run(c.key+"="+c.value, func(t *testing.T) {
			v := validValues()
			v[c.key] = c.value
			_, err := load(v)
			if c.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "botpool:"+c.key)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestSecretsAreNeverEchoed(t *testing.T) {
	v := validValues()
	v["adminPassword"] = "short"
	v["botEnv"] = "TOKEN=hunter2\nnot an assignment"
	_, err := load(v)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "short\"")
	assert.NotContains(t, err.Error(), "hunter2")
	assert.Contains(t, err.Error(), `botpool:botEnv = "[secret]": line 2 is not KEY=VALUE`)

	v = validValues()
	_, err = Load("dev", MapSource{Values: v, Secrets: map[string]bool{}}, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `botpool:adminPassword = "[redacted]": must be a secret`)
	assert.NotContains(t, err.Error(), v["adminPassword"])

	big := validValues()
	big["botEnv"] = "K=" + strings.Repeat("x", MaxEnvFileBytes)
	_, err = load(big)
	assert.ErrorContains(t, err, "at most 4096 bytes")
}

func TestParseResourceID(t *testing.T) {
	r, err := ParseResourceID("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s")
	require.NoError(t, err)
	assert.Equal(t, ResourceID{SubscriptionID: "00000000-0000-0000-0000-000000000000", ResourceGroup: "rg",
		Provider: "Microsoft.Network/virtualNetworks/subnets", Name: "s"}, r)
	for _, bad := range []string{
		"", "subscriptions/x", "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg",
		"/subscriptions/{00000000-0000-0000-0000-000000000000}/resourceGroups/rg/providers/A.B/c/d",
		"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups//providers/A.B/c/d",
		"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/A.B/c",
	} {
		_, err := ParseResourceID(bad)
		assert.Error(t, err, bad)
	}
}
