// Package extension ships the bot-host script and the address plan to private blob
// storage and declares the Custom Script Extension that runs the script on every VM.
package extension

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/botpool/botpool/addressplan"
	"github.com/botpool/botpool/agent"
	"github.com/botpool/botpool/agentbuild"
	az "github.com/botpool/botpool/azurenative"
	"github.com/botpool/botpool/config"
	"github.com/botpool/botpool/pool"
)

//go:embed scripts/bothost.ps1
var botHostScript []byte

// ContainerName is the private blob container holding what the VMs download.
const ContainerName = "bothost"

// Name is the extension's name on the scale set.
const Name = "bothost"

// Args configure the extension.
type Args struct {
	Placement          az.Placement
	NamePrefix         string
	StorageAccountName string // empty: derived from the name prefix and placement
	ScaleSetName       string
	PrincipalID        pulumi.StringInput
	Plan               addressplan.Plan
	Health             config.HealthConfig
	Agent              agentbuild.Binary
	Image              string // full reference with tag
	Registry           string // login server
	EnvFile            string // secret
	// DependsOn holds what must exist before the extension runs (the AcrPull assignment).
	DependsOn []pulumi.Resource
}

// Extension is the component.
type Extension struct {
	pulumi.ResourceState

	StorageAccountName string
	Files              Files
}

// DefaultStorageAccountName derives a globally unique-enough account name (3-24 lowercase
// alphanumerics) from the name prefix, subscription and resource group.
func DefaultStorageAccountName(namePrefix, subscriptionID, resourceGroup string) string {
	base := regexp.MustCompile(`[^a-z0-9]`).ReplaceAllString(strings.ToLower(namePrefix), "")
	if len(base) > 14 {
		base = base[:14]
	}
	sum := sha256.Sum256([]byte(subscriptionID + "/" + resourceGroup + "/" + namePrefix))
	return base + hex.EncodeToString(sum[:])[:24-len(base)]
}

// EnvFilePath is where the script writes the env file on each VM.
const EnvFilePath = `C:\ProgramData\botpool\bot.env`

// Template is the desired state of every VM but the image: the agent composes it with the
// deploy's image on the VM. It is checked here, with a stand-in image, so a template the
// agent would reject fails `pulumi preview` rather than every VM.
func Template(plan addressplan.Plan, h config.HealthConfig, image string, withEnvFile bool) ([]byte, error) {
	d := agent.Desired{Plan: plan, Health: agent.HealthConfig{Port: h.Port, Path: h.Path}}
	if withEnvFile {
		d.EnvFile = EnvFilePath
	}
	if h.DrainPath != "" {
		d.Drain = &agent.DrainConfig{Path: h.DrainPath, TimeoutSeconds: h.DrainTimeoutSecond}
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode desired-state template: %w", err)
	}
	if _, err := agent.Compose(b, image); err != nil {
		return nil, fmt.Errorf("desired-state template: %w", err)
	}
	return b, nil
}

// New declares the storage, the blobs and the extension.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Extension, error) {
	e := &Extension{StorageAccountName: args.StorageAccountName}
	if err := ctx.RegisterComponentResource("botpool:extension:BotHost", name, e, opts...); err != nil {
		return nil, err
	}
	p := args.Placement
	if e.StorageAccountName == "" {
		e.StorageAccountName = DefaultStorageAccountName(args.NamePrefix, p.SubscriptionID, p.ResourceGroup)
	}
	template, err := Template(args.Plan, args.Health, args.Image, args.EnvFile != "")
	if err != nil {
		return nil, fmt.Errorf("extension: %w", err)
	}

	account, err := az.Register(ctx, az.StorageAccount, name+"-storage", pulumi.Map{
		"resourceGroupName":      pulumi.String(p.ResourceGroup),
		"accountName":            pulumi.String(e.StorageAccountName),
		"location":               pulumi.String(p.Location),
		"kind":                   pulumi.String("StorageV2"),
		"sku":                    pulumi.Map{"name": pulumi.String("Standard_LRS")},
		"allowBlobPublicAccess":  pulumi.Bool(false),
		"enableHttpsTrafficOnly": pulumi.Bool(true),
		"minimumTlsVersion":      pulumi.String("TLS1_2"),
		"tags":                   p.TagMap(),
	}, p.Opts(e)...)
	if err != nil {
		return nil, err
	}
	container, err := az.Register(ctx, az.BlobContainer, name+"-container", pulumi.Map{
		"resourceGroupName": pulumi.String(p.ResourceGroup),
		"accountName":       pulumi.String(e.StorageAccountName),
		"containerName":     pulumi.String(ContainerName),
		"publicAccess":      pulumi.String("None"),
	}, p.Opts(e, pulumi.DependsOn([]pulumi.Resource{account}))...)
	if err != nil {
		return nil, err
	}

	base := fmt.Sprintf("https://%s.blob.core.windows.net/%s/", e.StorageAccountName, ContainerName)
	e.Files = Files{
		ScriptName:   ContentName("bothost.ps1", botHostScript),
		TemplateName: ContentName("desired.json", template),
		AgentName:    args.Agent.Name, // named after the agent's source hash
	}
	e.Files.ScriptURL, e.Files.TemplateURL, e.Files.AgentURL = base+e.Files.ScriptName, base+e.Files.TemplateName, base+e.Files.AgentName
	deps := []pulumi.Resource{container}
	for _, b := range []struct {
		res, blob, contentType string
		source                 pulumi.Asset
	}{
		{"script", e.Files.ScriptName, "text/plain", pulumi.NewStringAsset(string(botHostScript))},
		{"template", e.Files.TemplateName, "application/json", pulumi.NewStringAsset(string(template))},
		{"agent", e.Files.AgentName, "application/octet-stream", pulumi.NewFileAsset(args.Agent.Path)},
	} {
		blob, err := az.Register(ctx, az.Blob, name+"-"+b.res, pulumi.Map{
			"resourceGroupName": pulumi.String(p.ResourceGroup),
			"accountName":       pulumi.String(e.StorageAccountName),
			"containerName":     pulumi.String(ContainerName),
			"blobName":          pulumi.String(b.blob),
			"type":              pulumi.String("Block"),
			"contentType":       pulumi.String(b.contentType),
			"source":            b.source,
		}, p.Opts(e, pulumi.DependsOn([]pulumi.Resource{container}))...)
		if err != nil {
			return nil, err
		}
		deps = append(deps, blob)
	}

	// The VMs download with their managed identity: no SAS token, no account key.
	containerID := p.ID("Microsoft.Storage/storageAccounts", e.StorageAccountName, "blobServices/default/containers", ContainerName)
	reader, err := az.Register(ctx, az.RoleAssignment, name+"-blob-reader", pulumi.Map{
		"roleAssignmentName": pulumi.String(pool.AssignmentName(containerID, pool.StorageBlobDataReaderRoleID, args.ScaleSetName)),
		"scope":              pulumi.String(containerID),
		"roleDefinitionId":   pulumi.String(pool.RoleRef(p.SubscriptionID, pool.StorageBlobDataReaderRoleID)),
		"principalId":        args.PrincipalID,
		"principalType":      pulumi.String("ServicePrincipal"),
		"description":        pulumi.String("botpool: scale set " + args.ScaleSetName + " downloads its bot-host files"),
	}, p.Opts(e, pulumi.DependsOn([]pulumi.Resource{container}))...)
	if err != nil {
		return nil, err
	}
	deps = append(append(deps, reader), args.DependsOn...)

	if _, err := az.Register(ctx, az.ScaleSetExtension, name+"-cse", pulumi.Map{
		"resourceGroupName":       pulumi.String(p.ResourceGroup),
		"vmScaleSetName":          pulumi.String(args.ScaleSetName),
		"vmssExtensionName":       pulumi.String(Name),
		"publisher":               pulumi.String("Microsoft.Compute"),
		"type":                    pulumi.String("CustomScriptExtension"),
		"typeHandlerVersion":      pulumi.String("1.10"),
		"autoUpgradeMinorVersion": pulumi.Bool(true),
		"settings":                pulumi.ToMap(PublicSettings(e.Files, args.Image)),
		"protectedSettings": pulumi.ToSecret(pulumi.Map{
			"commandToExecute": pulumi.String(CommandToExecute(e.Files, args.Image, args.Registry, args.EnvFile)),
			"managedIdentity":  pulumi.Map{},
		}),
	}, p.Opts(e, pulumi.DependsOn(deps))...); err != nil {
		return nil, err
	}

	if err := ctx.RegisterResourceOutputs(e, pulumi.Map{
		"storageAccountName": pulumi.String(e.StorageAccountName),
		"scriptUrl":          pulumi.String(e.Files.ScriptURL),
		"templateUrl":        pulumi.String(e.Files.TemplateURL),
		"agentUrl":           pulumi.String(e.Files.AgentURL),
	}); err != nil {
		return nil, err
	}
	return e, nil
}
