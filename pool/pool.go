// Package pool declares the scale set of GPU bot hosts and its pull access to the registry.
package pool

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/google/uuid"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	az "github.com/botpool/botpool/azurenative"
	"github.com/botpool/botpool/config"
)

// Built-in role definition IDs (azure-facts.md).
const (
	AcrPullRoleID               = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
	StorageBlobDataReaderRoleID = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
)

// HealthExtensionName is the Application Health extension on every VM.
const HealthExtensionName = "health"

// Args configure the pool.
type Args struct {
	Placement     az.Placement
	NamePrefix    string
	Pool          config.PoolConfig
	Rollout       config.RolloutConfig
	Health        config.HealthConfig
	RegistryID    string
	DNSLabel      string
	ImageID       pulumi.StringInput
	SubnetID      pulumi.StringInput
	BackendPoolID pulumi.StringInput
}

// Pool is the component.
type Pool struct {
	pulumi.ResourceState

	ScaleSetName string
	ScaleSet     *az.ScaleSetResource
	// PrincipalID is the scale set's system-assigned identity.
	PrincipalID pulumi.StringOutput
}

// ComputerNamePrefix fits Windows' 15-character computer names: the scale set appends six.
func ComputerNamePrefix(namePrefix string) string {
	s := regexp.MustCompile(`[^a-z0-9]`).ReplaceAllString(strings.ToLower(namePrefix), "")
	if len(s) > 9 {
		s = s[:9]
	}
	return s
}

// RoleRef is a full role definition ID in a subscription.
func RoleRef(subscriptionID, roleID string) string {
	return fmt.Sprintf("/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s", subscriptionID, roleID)
}

// roleNamespace seeds role assignment names: a role assignment name must be a GUID, and a
// stable one keeps `pulumi up` from creating a second assignment on every replace.
var roleNamespace = uuid.MustParse("6f1f6c5e-7c64-4c5b-9d3c-2f0b7a3e9b10")

// AssignmentName is a deterministic GUID for granting role on scope to the named holder.
func AssignmentName(scope, roleID, holder string) string {
	return uuid.NewSHA1(roleNamespace, []byte(strings.ToLower(scope+"|"+roleID+"|"+holder))).String()
}

// RollingUpgradePolicy is the scale set's upgradePolicy: model changes (a new image tag in
// the extension's settings) roll out batch by batch, gated on the health extension.
func RollingUpgradePolicy(r config.RolloutConfig) pulumi.Map {
	return pulumi.Map{
		"mode": pulumi.String("Rolling"),
		"rollingUpgradePolicy": pulumi.Map{
			"maxBatchInstancePercent":             pulumi.Int(r.MaxBatchInstancePercent),
			"maxUnhealthyInstancePercent":         pulumi.Int(r.MaxUnhealthyInstancePercent),
			"maxUnhealthyUpgradedInstancePercent": pulumi.Int(r.MaxUnhealthyUpgradedInstancePercent),
			"pauseTimeBetweenBatches":             pulumi.String(r.PauseTimeBetweenBatches),
			"prioritizeUnhealthyInstances":        pulumi.Bool(r.PrioritizeUnhealthyInstances),
		},
	}
}

// HealthExtension is the Application Health extension reading the host agent's endpoint.
// It sits in the scale set model itself because Azure refuses a Rolling policy or automatic
// repairs on a scale set that has no health signal when it is created.
func HealthExtension(h config.HealthConfig) pulumi.Map {
	return pulumi.Map{
		"name":                    pulumi.String(HealthExtensionName),
		"publisher":               pulumi.String("Microsoft.ManagedServices"),
		"type":                    pulumi.String("ApplicationHealthWindows"),
		"typeHandlerVersion":      pulumi.String("2.0"),
		"autoUpgradeMinorVersion": pulumi.Bool(true),
		"settings": pulumi.Map{
			"protocol":          pulumi.String("http"),
			"port":              pulumi.Int(h.Port),
			"requestPath":       pulumi.String(h.Path),
			"intervalInSeconds": pulumi.Int(10),
			"numberOfProbes":    pulumi.Int(3),
			"gracePeriod":       pulumi.Int(600),
		},
	}
}

// New declares the scale set and its AcrPull role assignment.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Pool, error) {
	pl := &Pool{ScaleSetName: args.NamePrefix + "-vmss"}
	if err := ctx.RegisterComponentResource("botpool:pool:Pool", name, pl, opts...); err != nil {
		return nil, err
	}
	p, c := args.Placement, args.Pool
	vmss, err := az.RegisterScaleSet(ctx, name+"-vmss", pulumi.Map{
		"resourceGroupName": pulumi.String(p.ResourceGroup),
		"vmScaleSetName":    pulumi.String(pl.ScaleSetName),
		"location":          pulumi.String(p.Location),
		"sku": pulumi.Map{
			"name":     pulumi.String(c.VMSize),
			"tier":     pulumi.String("Standard"),
			"capacity": pulumi.Int(c.Capacity),
		},
		"identity":          pulumi.Map{"type": pulumi.String("SystemAssigned")},
		"orchestrationMode": pulumi.String("Uniform"),
		// Extra VMs would briefly hold addresses, and so ordinals, of their own.
		"overprovision": pulumi.Bool(false),
		"upgradePolicy": RollingUpgradePolicy(args.Rollout),
		"automaticRepairsPolicy": pulumi.Map{
			"enabled":      pulumi.Bool(true),
			"gracePeriod":  pulumi.String(args.Health.RepairGracePeriod),
			"repairAction": pulumi.String("Replace"),
		},
		"virtualMachineProfile": pulumi.Map{
			"storageProfile": pulumi.Map{
				"imageReference": pulumi.Map{"id": args.ImageID},
				"osDisk": pulumi.Map{
					"createOption": pulumi.String("FromImage"),
					"caching":      pulumi.String("ReadWrite"),
					"managedDisk":  pulumi.Map{"storageAccountType": pulumi.String("Premium_LRS")},
				},
			},
			"osProfile": pulumi.Map{
				"computerNamePrefix": pulumi.String(ComputerNamePrefix(args.NamePrefix)),
				"adminUsername":      pulumi.String(c.AdminUsername),
				"adminPassword":      pulumi.ToSecret(pulumi.String(c.AdminPassword)).(pulumi.StringOutput),
				"windowsConfiguration": pulumi.Map{
					"provisionVMAgent": pulumi.Bool(true),
					// Patching reboots hosts under live bots; the image is rebuilt instead.
					"enableAutomaticUpdates": pulumi.Bool(false),
				},
			},
			"networkProfile": pulumi.Map{
				"networkInterfaceConfigurations": pulumi.Array{pulumi.Map{
					"name":    pulumi.String("nic"),
					"primary": pulumi.Bool(true),
					"ipConfigurations": pulumi.Array{pulumi.Map{
						"name":                            pulumi.String("ipconfig"),
						"primary":                         pulumi.Bool(true),
						"subnet":                          az.Ref(args.SubnetID),
						"loadBalancerBackendAddressPools": pulumi.Array{az.Ref(args.BackendPoolID)},
						"publicIPAddressConfiguration": pulumi.Map{
							"name":                 pulumi.String("vm-pip"),
							"idleTimeoutInMinutes": pulumi.Int(30),
							"sku":                  pulumi.Map{"name": pulumi.String("Standard"), "tier": pulumi.String("Regional")},
							"dnsSettings":          pulumi.Map{"domainNameLabel": pulumi.String(args.DNSLabel + "-vm")},
						},
					}},
				}},
			},
			"extensionProfile": pulumi.Map{
				"extensions": pulumi.Array{HealthExtension(args.Health)},
			},
			"diagnosticsProfile": pulumi.Map{
				"bootDiagnostics": pulumi.Map{"enabled": pulumi.Bool(true)},
			},
		},
		"tags": p.TagMap(),
	}, p.Opts(pl)...)
	if err != nil {
		return nil, err
	}
	pl.ScaleSet = vmss
	pl.PrincipalID = vmss.PrincipalID()

	reg, err := config.ParseResourceID(args.RegistryID)
	if err != nil {
		return nil, fmt.Errorf("pool: registryId: %w", err)
	}
	vmssID := p.ID("Microsoft.Compute/virtualMachineScaleSets", pl.ScaleSetName)
	if _, err := az.Register(ctx, az.RoleAssignment, name+"-acrpull", pulumi.Map{
		"roleAssignmentName": pulumi.String(AssignmentName(args.RegistryID, AcrPullRoleID, vmssID)),
		"scope":              pulumi.String(args.RegistryID),
		"roleDefinitionId":   pulumi.String(RoleRef(reg.SubscriptionID, AcrPullRoleID)),
		"principalId":        pl.PrincipalID,
		"principalType":      pulumi.String("ServicePrincipal"),
		"description":        pulumi.String("botpool: scale set " + pl.ScaleSetName + " pulls bot images"),
	}, p.Opts(pl)...); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(pl, pulumi.Map{
		"scaleSetName": pulumi.String(pl.ScaleSetName),
		"principalId":  pl.PrincipalID,
	}); err != nil {
		return nil, err
	}
	return pl, nil
}
