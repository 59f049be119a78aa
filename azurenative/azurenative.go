// Package azurenative declares azure-native resources without the provider's Go SDK.
//
// The generated SDK is not available to this build and is notorious for compile time and
// memory; the program needs a dozen resource types. Each is registered here by its
// provider type token, with the provider plugin pinned to ProviderVersion, and its inputs
// given under the provider's property names (checked against the provider schema by
// tests/schema_test.go).
package azurenative

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ProviderVersion is the azure-native provider plugin every resource is registered with.
const ProviderVersion = "2.90.0"

// Token is an azure-native resource type token.
type Token string

// The resource types the program declares.
const (
	ResourceGroup        Token = "azure-native:resources:ResourceGroup"
	VirtualNetwork       Token = "azure-native:network:VirtualNetwork"
	NetworkSecurityGroup Token = "azure-native:network:NetworkSecurityGroup"
	PublicIPAddress      Token = "azure-native:network:PublicIPAddress"
	LoadBalancer         Token = "azure-native:network:LoadBalancer"
	Gallery              Token = "azure-native:compute:Gallery"
	GalleryImage         Token = "azure-native:compute:GalleryImage"
	GalleryImageVersion  Token = "azure-native:compute:GalleryImageVersion"
	ScaleSet             Token = "azure-native:compute:VirtualMachineScaleSet"
	ScaleSetExtension    Token = "azure-native:compute:VirtualMachineScaleSetExtension"
	StorageAccount       Token = "azure-native:storage:StorageAccount"
	BlobContainer        Token = "azure-native:storage:BlobContainer"
	Blob                 Token = "azure-native:storage:Blob"
	RoleAssignment       Token = "azure-native:authorization:RoleAssignment"
)

// GetClientConfig is the invoke that tells which subscription the provider deploys to.
const GetClientConfig = "azure-native:authorization:getClientConfig"

// Resource is a registered azure-native resource with the outputs every one has.
type Resource struct {
	pulumi.CustomResourceState

	Name pulumi.StringOutput `pulumi:"name"`
}

// ScaleSetResource adds the scale set's identity to Resource.
type ScaleSetResource struct {
	pulumi.CustomResourceState

	Name     pulumi.StringOutput `pulumi:"name"`
	Identity pulumi.MapOutput    `pulumi:"identity"`
}

// PrincipalID is the object ID of the scale set's system-assigned identity.
func (s *ScaleSetResource) PrincipalID() pulumi.StringOutput {
	return s.Identity.ApplyT(func(id map[string]interface{}) (string, error) {
		p, ok := id["principalId"].(string)
		if !ok || p == "" {
			return "", fmt.Errorf("scale set identity has no principalId: is the system-assigned identity enabled?")
		}
		return p, nil
	}).(pulumi.StringOutput)
}

// Register declares a resource of type t under the pinned provider version.
func Register(ctx *pulumi.Context, t Token, name string, inputs pulumi.Map, opts ...pulumi.ResourceOption) (*Resource, error) {
	var r Resource
	if err := register(ctx, t, name, inputs, &r, opts); err != nil {
		return nil, err
	}
	return &r, nil
}

// RegisterScaleSet declares a VirtualMachineScaleSet, whose identity output the program uses.
func RegisterScaleSet(ctx *pulumi.Context, name string, inputs pulumi.Map, opts ...pulumi.ResourceOption) (*ScaleSetResource, error) {
	var r ScaleSetResource
	if err := register(ctx, ScaleSet, name, inputs, &r, opts); err != nil {
		return nil, err
	}
	return &r, nil
}

func register(ctx *pulumi.Context, t Token, name string, inputs pulumi.Map, r pulumi.CustomResource, opts []pulumi.ResourceOption) error {
	opts = append(opts, pulumi.Version(ProviderVersion))
	if err := ctx.RegisterResource(string(t), name, inputs, r, opts...); err != nil {
		return fmt.Errorf("register %s %q: %w", t, name, err)
	}
	return nil
}

// SubscriptionID asks the provider which subscription it deploys to.
func SubscriptionID(ctx *pulumi.Context) (string, error) {
	var out struct {
		SubscriptionID string `pulumi:"subscriptionId"`
	}
	if err := ctx.Invoke(GetClientConfig, struct{}{}, &out, pulumi.Version(ProviderVersion)); err != nil {
		return "", fmt.Errorf("read the deployment subscription (%s): %w", GetClientConfig, err)
	}
	if out.SubscriptionID == "" {
		return "", fmt.Errorf("%s returned no subscriptionId: is the azure-native provider configured?", GetClientConfig)
	}
	return out.SubscriptionID, nil
}

// ID builds the ARM ID of a resource in a resource group: names are chosen by the
// program, so IDs of sub-resources (load balancer probes, pools) are known before creation.
func ID(subscriptionID, resourceGroup, providerType, name string, children ...string) string {
	id := fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/%s/%s", subscriptionID, resourceGroup, providerType, name)
	for _, c := range children {
		id += "/" + c
	}
	return id
}

// Ref is a sub-resource reference: {"id": id}.
func Ref(id pulumi.StringInput) pulumi.Map { return pulumi.Map{"id": id} }

// Placement is where every resource of a stack goes.
type Placement struct {
	SubscriptionID string
	ResourceGroup  string
	Location       string
	Tags           map[string]string
	// DependsOn holds what must exist first (the resource group, when the program creates it).
	DependsOn []pulumi.Resource
}

// Opts are the options for a child of parent.
func (p Placement) Opts(parent pulumi.Resource, more ...pulumi.ResourceOption) []pulumi.ResourceOption {
	opts := []pulumi.ResourceOption{pulumi.Parent(parent)}
	if len(p.DependsOn) > 0 {
		opts = append(opts, pulumi.DependsOn(p.DependsOn))
	}
	return append(opts, more...)
}

// TagMap is the tags as an input.
func (p Placement) TagMap() pulumi.StringMap { return pulumi.ToStringMap(p.Tags) }

// ID is the ARM ID of a resource of providerType in the placement's resource group.
func (p Placement) ID(providerType, name string, children ...string) string {
	return ID(p.SubscriptionID, p.ResourceGroup, providerType, name, children...)
}
