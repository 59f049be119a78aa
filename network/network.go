// Package network declares the pool's virtual network, its public entry point and the
// load balancer that makes every bot individually addressable.
package network

import (
	"fmt"
	"net/netip"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/botpool/botpool/addressplan"
	az "github.com/botpool/botpool/azurenative"
)

// Args configure the network.
type Args struct {
	Placement        az.Placement
	NamePrefix       string
	VnetAddressSpace netip.Prefix
	SubnetPrefix     netip.Prefix
	ExistingSubnetID string // when set, no virtual network or NSG is created
	DNSLabel         string
	AllowedSources   []string
	Layout           addressplan.Layout
}

// Network is the component.
type Network struct {
	pulumi.ResourceState

	SubnetID      pulumi.StringOutput
	BackendPoolID pulumi.StringOutput
	// FQDN is the pool's public name: <label>.<region>.cloudapp.azure.com.
	FQDN pulumi.StringOutput
}

// FQDN is the DNS name Azure gives a public IP with a DNS label in a region.
func FQDN(label, location string) string {
	return fmt.Sprintf("%s.%s.cloudapp.azure.com", label, location)
}

// New declares the network.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Network, error) {
	n := &Network{}
	if err := ctx.RegisterComponentResource("botpool:network:Network", name, n, opts...); err != nil {
		return nil, err
	}
	p := args.Placement
	rules, err := PortRules(args.Layout)
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}

	if args.ExistingSubnetID != "" {
		n.SubnetID = pulumi.String(args.ExistingSubnetID).ToStringOutput()
	} else {
		subnetID, err := n.virtualNetwork(ctx, name, args)
		if err != nil {
			return nil, err
		}
		n.SubnetID = subnetID
	}

	pipName := args.NamePrefix + "-pip"
	pip, err := az.Register(ctx, az.PublicIPAddress, name+"-pip", pulumi.Map{
		"resourceGroupName":        pulumi.String(p.ResourceGroup),
		"publicIpAddressName":      pulumi.String(pipName),
		"location":                 pulumi.String(p.Location),
		"sku":                      pulumi.Map{"name": pulumi.String("Standard"), "tier": pulumi.String("Regional")},
		"publicIPAllocationMethod": pulumi.String("Static"),
		"publicIPAddressVersion":   pulumi.String("IPv4"),
		"dnsSettings":              pulumi.Map{"domainNameLabel": pulumi.String(args.DNSLabel)},
		"tags":                     p.TagMap(),
	}, p.Opts(n)...)
	if err != nil {
		return nil, err
	}

	lbName := args.NamePrefix + "-lb"
	lbID := p.ID("Microsoft.Network/loadBalancers", lbName)
	feRef := az.Ref(pulumi.String(lbID + "/frontendIPConfigurations/" + FrontendName))
	poolRef := az.Ref(pulumi.String(lbID + "/backendAddressPools/" + BackendPoolName))
	probes := make(pulumi.Array, len(rules))
	lbRules := make(pulumi.Array, len(rules))
	for i, r := range rules {
		probes[i] = pulumi.Map{
			"name":              pulumi.String(r.ProbeName),
			"protocol":          pulumi.String("Tcp"),
			"port":              pulumi.Int(r.Port),
			"intervalInSeconds": pulumi.Int(5),
			"numberOfProbes":    pulumi.Int(2),
		}
		lbRules[i] = pulumi.Map{
			"name":                    pulumi.String(r.RuleName),
			"protocol":                pulumi.String("Tcp"),
			"frontendPort":            pulumi.Int(r.Port),
			"backendPort":             pulumi.Int(r.Port),
			"frontendIPConfiguration": feRef,
			"backendAddressPool":      poolRef,
			"probe":                   az.Ref(pulumi.String(lbID + "/probes/" + r.ProbeName)),
			"enableFloatingIP":        pulumi.Bool(false),
			"enableTcpReset":          pulumi.Bool(true),
			"idleTimeoutInMinutes":    pulumi.Int(30),
			// Each VM has its own public IP for outbound traffic.
			"disableOutboundSnat": pulumi.Bool(true),
			"loadDistribution":    pulumi.String("Default"),
		}
	}
	lb, err := az.Register(ctx, az.LoadBalancer, name+"-lb", pulumi.Map{
		"resourceGroupName": pulumi.String(p.ResourceGroup),
		"loadBalancerName":  pulumi.String(lbName),
		"location":          pulumi.String(p.Location),
		"sku":               pulumi.Map{"name": pulumi.String("Standard"), "tier": pulumi.String("Regional")},
		"frontendIPConfigurations": pulumi.Array{pulumi.Map{
			"name":            pulumi.String(FrontendName),
			"publicIPAddress": az.Ref(pip.ID().ToStringOutput()),
		}},
		"backendAddressPools": pulumi.Array{pulumi.Map{"name": pulumi.String(BackendPoolName)}},
		"probes":              probes,
		"loadBalancingRules":  lbRules,
		"tags":                p.TagMap(),
	}, p.Opts(n)...)
	if err != nil {
		return nil, err
	}
	// Through the load balancer's output so the scale set waits for the pool to exist.
	n.BackendPoolID = lb.ID().ApplyT(func(id pulumi.ID) string {
		return string(id) + "/backendAddressPools/" + BackendPoolName
	}).(pulumi.StringOutput)
	n.FQDN = pip.ID().ApplyT(func(pulumi.ID) string { return FQDN(args.DNSLabel, p.Location) }).(pulumi.StringOutput)

	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{
		"subnetId":      n.SubnetID,
		"backendPoolId": n.BackendPoolID,
		"fqdn":          n.FQDN,
	}); err != nil {
		return nil, err
	}
	return n, nil
}

// virtualNetwork declares the NSG and the virtual network with the pool's dedicated subnet.
func (n *Network) virtualNetwork(ctx *pulumi.Context, name string, args Args) (pulumi.StringOutput, error) {
	p := args.Placement
	inbound, err := InboundRules(args.Layout, args.AllowedSources)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("network: %w", err)
	}
	secRules := make(pulumi.Array, len(inbound))
	for i, r := range inbound {
		secRules[i] = pulumi.Map{
			"name":                     pulumi.String(r.Name),
			"priority":                 pulumi.Int(r.Priority),
			"direction":                pulumi.String("Inbound"),
			"access":                   pulumi.String(r.Access),
			"protocol":                 pulumi.String(r.Protocol),
			"sourceAddressPrefixes":    pulumi.ToStringArray(r.SourcePrefixes),
			"sourcePortRange":          pulumi.String("*"),
			"destinationAddressPrefix": pulumi.String("*"),
			"destinationPortRanges":    pulumi.ToStringArray(r.DestinationPortRanges),
		}
	}
	nsg, err := az.Register(ctx, az.NetworkSecurityGroup, name+"-nsg", pulumi.Map{
		"resourceGroupName":        pulumi.String(p.ResourceGroup),
		"networkSecurityGroupName": pulumi.String(args.NamePrefix + "-nsg"),
		"location":                 pulumi.String(p.Location),
		"securityRules":            secRules,
		"tags":                     p.TagMap(),
	}, p.Opts(n)...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	const subnetName = "bots"
	vnet, err := az.Register(ctx, az.VirtualNetwork, name+"-vnet", pulumi.Map{
		"resourceGroupName":  pulumi.String(p.ResourceGroup),
		"virtualNetworkName": pulumi.String(args.NamePrefix + "-vnet"),
		"location":           pulumi.String(p.Location),
		"addressSpace":       pulumi.Map{"addressPrefixes": pulumi.StringArray{pulumi.String(args.VnetAddressSpace.String())}},
		// Inline, so the subnet and its NSG association are one resource's state.
		"subnets": pulumi.Array{pulumi.Map{
			"name":                 pulumi.String(subnetName),
			"addressPrefix":        pulumi.String(args.SubnetPrefix.String()),
			"networkSecurityGroup": az.Ref(nsg.ID().ToStringOutput()),
		}},
		"tags": p.TagMap(),
	}, p.Opts(n)...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return vnet.ID().ApplyT(func(id pulumi.ID) string { return string(id) + "/subnets/" + subnetName }).(pulumi.StringOutput), nil
}
