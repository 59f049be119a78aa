// Package program is the whole botpool stack: it validates the config, then declares the
// image gallery, network, pool and bot-host extension. main.go runs it under `pulumi up`;
// cmd/plan runs the same function under the mock monitor.
package program

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/botpool/botpool/addressplan"
	"github.com/botpool/botpool/agentbuild"
	az "github.com/botpool/botpool/azurenative"
	"github.com/botpool/botpool/config"
	"github.com/botpool/botpool/extension"
	"github.com/botpool/botpool/image"
	"github.com/botpool/botpool/network"
	"github.com/botpool/botpool/pool"
)

// Observer receives the stack outputs as they are exported (the offline plan reports them).
type Observer func(outputs pulumi.Map)

// New returns the Pulumi program. Config is loaded and validated before anything is
// registered, so an invalid stack changes nothing.
func New(opts config.Options, observers ...Observer) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		cfg, err := config.Load(ctx.Stack(), config.StackSource{Ctx: ctx}, opts)
		if err != nil {
			return err
		}
		outputs, err := Declare(ctx, cfg)
		if err != nil {
			return err
		}
		for k, v := range outputs {
			ctx.Export(k, v)
		}
		for _, o := range observers {
			o(outputs)
		}
		return nil
	}
}

// Declare registers every resource of a validated config and returns the stack outputs.
func Declare(ctx *pulumi.Context, cfg *config.Config) (pulumi.Map, error) {
	plan, err := addressplan.Build(cfg.Layout(), extension.RunArgs())
	if err != nil {
		return nil, fmt.Errorf("address plan: %w", err)
	}
	root, err := agentbuild.FindModuleRoot(".")
	if err != nil {
		return nil, err
	}
	cache, err := agentbuild.DefaultCacheDir()
	if err != nil {
		return nil, err
	}
	agentBin, err := agentbuild.Build(root, cache)
	if err != nil {
		return nil, err
	}
	sub, err := az.SubscriptionID(ctx)
	if err != nil {
		return nil, err
	}
	tags := map[string]string{"botpool-stack": cfg.Stack}
	for k, v := range cfg.Tags {
		tags[k] = v
	}
	place := az.Placement{SubscriptionID: sub, ResourceGroup: cfg.ResourceGroupName, Location: cfg.Location, Tags: tags}
	if cfg.CreateResourceGroup {
		rg, err := az.Register(ctx, az.ResourceGroup, cfg.NamePrefix+"-rg", pulumi.Map{
			"resourceGroupName": pulumi.String(cfg.ResourceGroupName),
			"location":          pulumi.String(cfg.Location),
			"tags":              pulumi.ToStringMap(tags),
		})
		if err != nil {
			return nil, err
		}
		place.DependsOn = []pulumi.Resource{rg}
	}

	gallery, err := image.New(ctx, cfg.NamePrefix+"-image", image.Args{Placement: place, Image: cfg.Image})
	if err != nil {
		return nil, err
	}
	net, err := network.New(ctx, cfg.NamePrefix+"-network", network.Args{
		Placement:        place,
		NamePrefix:       cfg.NamePrefix,
		VnetAddressSpace: cfg.Network.VnetAddressSpace,
		SubnetPrefix:     cfg.Network.SubnetPrefix,
		ExistingSubnetID: cfg.Network.ExistingSubnetID,
		DNSLabel:         cfg.Network.DNSLabel,
		AllowedSources:   cfg.Network.AllowedSources,
		Layout:           cfg.Layout(),
	})
	if err != nil {
		return nil, err
	}
	pl, err := pool.New(ctx, cfg.NamePrefix+"-pool", pool.Args{
		Placement:     place,
		NamePrefix:    cfg.NamePrefix,
		Pool:          cfg.Pool,
		Rollout:       cfg.Rollout,
		Health:        cfg.Health,
		RegistryID:    cfg.Bots.RegistryID,
		DNSLabel:      cfg.Network.DNSLabel,
		ImageID:       gallery.VersionID,
		SubnetID:      net.SubnetID,
		BackendPoolID: net.BackendPoolID,
	})
	if err != nil {
		return nil, err
	}
	ext, err := extension.New(ctx, cfg.NamePrefix+"-bothost", extension.Args{
		Placement:          place,
		NamePrefix:         cfg.NamePrefix,
		StorageAccountName: cfg.StorageAccountName,
		ScaleSetName:       pl.ScaleSetName,
		PrincipalID:        pl.PrincipalID,
		Plan:               plan,
		Health:             cfg.Health,
		Agent:              agentBin,
		Image:              cfg.Bots.ImageRef(),
		Registry:           cfg.Bots.RegistryLoginServer,
		EnvFile:            cfg.Bots.EnvFile,
		DependsOn:          []pulumi.Resource{pl},
	})
	if err != nil {
		return nil, err
	}

	portRange, err := network.BotPortRange(cfg.Layout())
	if err != nil {
		return nil, err
	}
	return pulumi.Map{
		"poolAddress":        net.FQDN,
		"imageTag":           pulumi.String(cfg.Bots.Tag),
		"imageReference":     pulumi.String(cfg.Bots.ImageRef()),
		"resourceGroupName":  pulumi.String(cfg.ResourceGroupName),
		"scaleSetName":       pulumi.String(pl.ScaleSetName),
		"imageVersionId":     gallery.VersionID,
		"botPorts":           pulumi.String(portRange),
		"storageAccountName": pulumi.String(ext.StorageAccountName),
	}, nil
}
