// Package image declares the Azure Compute Gallery that holds the GPU bot-host image:
// Windows Server with Containers, the NVIDIA driver and the pre-pulled Windows base image,
// captured from a generalized source (the article's `az vm generalize` + `az image create`).
package image

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	az "github.com/botpool/botpool/azurenative"
	"github.com/botpool/botpool/config"
)

// Args configure the gallery.
type Args struct {
	Placement az.Placement
	Image     config.ImageConfig
}

// Gallery is the component. VersionID is what the scale set boots from.
type Gallery struct {
	pulumi.ResourceState

	VersionID pulumi.StringOutput
}

// New declares the gallery, image definition and version, or, when the config names an
// existing image version, nothing but the component that hands its ID on.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Gallery, error) {
	g := &Gallery{}
	if err := ctx.RegisterComponentResource("botpool:image:Gallery", name, g, opts...); err != nil {
		return nil, err
	}
	im, p := args.Image, args.Placement
	if im.ExistingVersionID != "" {
		g.VersionID = pulumi.String(im.ExistingVersionID).ToStringOutput()
	} else {
		gallery, err := az.Register(ctx, az.Gallery, name+"-gallery", pulumi.Map{
			"resourceGroupName": pulumi.String(p.ResourceGroup),
			"galleryName":       pulumi.String(im.GalleryName),
			"location":          pulumi.String(p.Location),
			"description":       pulumi.String("GPU Windows hosts for bot containers"),
			"tags":              p.TagMap(),
		}, p.Opts(g)...)
		if err != nil {
			return nil, err
		}
		def, err := az.Register(ctx, az.GalleryImage, name+"-definition", pulumi.Map{
			"resourceGroupName": pulumi.String(p.ResourceGroup),
			"galleryName":       pulumi.String(im.GalleryName),
			"galleryImageName":  pulumi.String(im.DefinitionName),
			"location":          pulumi.String(p.Location),
			"osType":            pulumi.String("Windows"),
			"osState":           pulumi.String("Generalized"),
			"hyperVGeneration":  pulumi.String(im.HyperVGeneration),
			"identifier": pulumi.Map{
				"publisher": pulumi.String(im.Publisher),
				"offer":     pulumi.String(im.Offer),
				"sku":       pulumi.String(im.Sku),
			},
			"description": pulumi.String("Windows Server with Containers, NVIDIA GPU driver, Windows base image pre-pulled"),
			"tags":        p.TagMap(),
		}, p.Opts(g, pulumi.DependsOn([]pulumi.Resource{gallery}))...)
		if err != nil {
			return nil, err
		}
		version, err := az.Register(ctx, az.GalleryImageVersion, name+"-version", pulumi.Map{
			"resourceGroupName":       pulumi.String(p.ResourceGroup),
			"galleryName":             pulumi.String(im.GalleryName),
			"galleryImageName":        pulumi.String(im.DefinitionName),
			"galleryImageVersionName": pulumi.String(im.Version),
			"location":                pulumi.String(p.Location),
			"storageProfile": pulumi.Map{
				"source": pulumi.Map{"id": pulumi.String(im.SourceID)},
			},
			"publishingProfile": pulumi.Map{
				"targetRegions": pulumi.Array{pulumi.Map{
					"name":                 pulumi.String(p.Location),
					"regionalReplicaCount": pulumi.Int(1),
				}},
			},
			"tags": p.TagMap(),
		}, p.Opts(g, pulumi.DependsOn([]pulumi.Resource{def}))...)
		if err != nil {
			return nil, err
		}
		g.VersionID = version.ID().ToStringOutput()
	}
	if err := ctx.RegisterResourceOutputs(g, pulumi.Map{"versionId": g.VersionID}); err != nil {
		return nil, err
	}
	return g, nil
}
