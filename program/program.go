// Package program is the whole botpool stack: it validates the config, then declares the
// image gallery, network, pool and bot-host extension. main.go runs it under `pulumi up`;
// cmd/plan runs the same function under the mock monitor.
package program

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/botpool/botpool/addressplan"
	az "github.com/botpool/botpool/azurenative"
	"github.com/botpool/botpool/config"
	"github.com/botpool/botpool/extension"
	"github.com/botpool/botpool/image"
	"github.com/botpool/botpool/network"
	"github.com/botpool/botpool/pool"
)

// New returns the Pulumi program. Config is loaded and validated before anything is
// registered, so an invalid stack changes nothing.
func New(opts config.Options) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		cfg, err := config.Load(ctx.Stack(), config.StackSource{Ctx: ctx}, opts)
		if err != nil {
			return err
		}
		return Declare(ctx, cfg)
	}
}

// Declare registers every resource of a validated config.
func Declare(ctx *pulumi.Context, cfg *config.Config) error {
	plan, err := addressplan.Build(cfg.Layout(), extension.RunArgs())
	if err != nil {
		return fmt.Errorf("address plan: %w", err)
	}
	sub, err := az.SubscriptionID(ctx)
	if err != nil {
		return err
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
			return err
		}
		place.DependsOn = []pulumi.Resource{rg}
	}

	gallery, err := image.New(ctx, cfg.NamePrefix+"-image", image.Args{Placement: place, Image: cfg.Image})
	if err != nil {
		return err
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
		return err
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
		return err
	}
	ext, err := extension.New(ctx, cfg.NamePrefix+"-bothost", extension.Args{
		Placement:          place,
		NamePrefix:         cfg.NamePrefix,
		StorageAccountName: cfg.StorageAccountName,
		ScaleSetName:       pl.ScaleSetName,
		PrincipalID:        pl.PrincipalID,
		Plan:               plan,
		Image:              cfg.Bots.ImageRef(),
		Registry:           cfg.Bots.RegistryLoginServer,
		EnvFile:            cfg.Bots.EnvFile,
		DependsOn:          []pulumi.Resource{pl},
	})
	if err != nil {
		return err
	}

	portRange, err := network.BotPortRange(cfg.Layout())
	if err != nil {
		return err
	}
	ctx.Export("poolAddress", net.FQDN)
	ctx.Export("imageTag", pulumi.String(cfg.Bots.Tag))
	ctx.Export("imageReference", pulumi.String(cfg.Bots.ImageRef()))
	ctx.Export("resourceGroupName", pulumi.String(cfg.ResourceGroupName))
	ctx.Export("scaleSetName", pulumi.String(pl.ScaleSetName))
	ctx.Export("imageVersionId", gallery.VersionID)
	ctx.Export("botPorts", pulumi.String(portRange))
	ctx.Export("storageAccountName", pulumi.String(ext.StorageAccountName))
	return nil
}
