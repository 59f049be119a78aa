// Package config loads and validates a stack's configuration before anything is registered.
//
// Every key lives in the `botpool:` namespace of the stack file (Pulumi.<stack>.yaml).
// Load collects every problem at once, each naming the key, the offending value and the
// rule, so a user fixes a config in one pass. Secret values are never echoed.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/botpool/botpool/addressplan"
	"github.com/botpool/botpool/limits"
)

// Namespace is the stack config namespace of every key below.
const Namespace = "botpool"

// Source yields raw stack config values by key without the namespace.
type Source interface {
	// Lookup returns the value of key and whether it is set.
	Lookup(key string) (string, bool)
	// IsSecret reports whether key holds a `secure:` value.
	IsSecret(key string) bool
}

// Options change how Load treats values it cannot see.
type Options struct {
	// OpaqueSecrets is set where secure values are placeholders (the offline plan):
	// their presence is checked, their content is not.
	OpaqueSecrets bool
}

// Config is a validated stack configuration.
type Config struct {
	Stack    string
	Location string
	// ResourceGroupName is the group everything goes in; CreateResourceGroup says whether
	// the program creates it or it already exists.
	ResourceGroupName   string
	CreateResourceGroup bool
	NamePrefix          string // prefix of every Azure resource name
	Tags                map[string]string

	Image   ImageConfig
	Network NetworkConfig
	Pool    PoolConfig
	Bots    BotConfig
	Rollout RolloutConfig
	Health  HealthConfig

	StorageAccountName string
}

// ImageConfig describes the GPU host image: either an existing gallery image version, or
// the gallery, image definition and version the program creates from a generalized source.
type ImageConfig struct {
	ExistingVersionID string // when set, no gallery resources are created
	SourceID          string // managed image or generalized VM the version is made from
	GalleryName       string
	DefinitionName    string
	Publisher         string
	Offer             string
	Sku               string
	HyperVGeneration  string // V1 or V2
	Version           string // semantic version of the gallery image version, e.g. 1.0.0
}

// NetworkConfig describes the pool's network and its public entry point.
type NetworkConfig struct {
	VnetAddressSpace netip.Prefix // only when the program creates the network
	SubnetPrefix     netip.Prefix // the pool's dedicated subnet: it drives the address plan
	ExistingSubnetID string       // when set, the program creates no virtual network
	DNSLabel         string
	// AllowedSources may reach the bot ports: service tags or CIDR prefixes.
	AllowedSources []string
}

// PoolConfig describes the scale set.
type PoolConfig struct {
	VMSize        string
	Capacity      int
	MaxCapacity   int // the most VMs the limits are checked for; scale-outs stay within it
	AdminUsername string
	AdminPassword string // secret
}

// BotConfig describes the bot containers.
type BotConfig struct {
	RegistryID          string // ARM ID of the existing Azure Container Registry
	RegistryLoginServer string
	Repository          string
	Tag                 string
	BasePort            int
	SlotsPerVM          int
	ContainerPort       int
	EnvFile             string // secret: env-file lines KEY=VALUE for every bot container
}

// ImageRef is the full reference of the bot image the pool runs.
func (b BotConfig) ImageRef() string {
	return b.RegistryLoginServer + "/" + b.Repository + ":" + b.Tag
}

// RolloutConfig is the scale set's Rolling upgrade policy.
type RolloutConfig struct {
	MaxBatchInstancePercent             int
	MaxUnhealthyInstancePercent         int
	MaxUnhealthyUpgradedInstancePercent int
	PauseTimeBetweenBatches             string // ISO 8601 duration
	PrioritizeUnhealthyInstances        bool
}

// HealthConfig is the per-VM health endpoint and the repairs that act on it.
type HealthConfig struct {
	Port               int
	Path               string
	RepairGracePeriod  string // ISO 8601 duration
	DrainPath          string // optional bot endpoint asked to drain before a container stops
	DrainTimeoutSecond int
}

// Layout is the address plan layout the config describes.
func (c *Config) Layout() addressplan.Layout {
	return addressplan.Layout{
		Subnet:        c.Network.SubnetPrefix,
		BasePort:      c.Bots.BasePort,
		SlotsPerVM:    c.Bots.SlotsPerVM,
		ContainerPort: c.Bots.ContainerPort,
	}
}

// Usage is what the pool consumes of the load balancer limits.
func (c *Config) Usage() limits.Usage {
	ports, _ := c.Layout().PortCount()
	return limits.Compute(ports, c.Pool.MaxCapacity)
}

// Error is one invalid config value.
type Error struct {
	Key   string // without namespace
	Value string // as given, or "[secret]"
	Rule  string
}

func (e *Error) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s:%s: %s", Namespace, e.Key, e.Rule)
	}
	return fmt.Sprintf("%s:%s = %q: %s", Namespace, e.Key, e.Value, e.Rule)
}

// loader reads keys and records every problem.
type loader struct {
	src  Source
	opts Options
	errs []error
}

func (l *loader) fail(key, value, rule string, args ...any) {
	if value != "" && l.src.IsSecret(key) {
		value = "[secret]"
	}
	l.errs = append(l.errs, &Error{Key: key, Value: value, Rule: fmt.Sprintf(rule, args...)})
}

func (l *loader) str(key, def string) string {
	if v, ok := l.src.Lookup(key); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return def
}

func (l *loader) required(key string) string {
	v := l.str(key, "")
	if v == "" {
		l.fail(key, "", "is required")
	}
	return v
}

// secret reads a value that must be a `secure:` config value.
func (l *loader) secret(key string, required bool) string {
	v, ok := l.src.Lookup(key)
	if !ok || v == "" {
		if required {
			l.fail(key, "", "is required; set it with `pulumi config set --secret %s:%s`", Namespace, key)
		}
		return ""
	}
	if !l.src.IsSecret(key) {
		// Never echo it: it was meant to be secret.
		l.errs = append(l.errs, &Error{Key: key, Value: "[redacted]", Rule: fmt.Sprintf(
			"must be a secret; set it with `pulumi config set --secret %s:%s`", Namespace, key)})
	}
	return v
}

func (l *loader) integer(key string, def, min, max int) int {
	raw, ok := l.src.Lookup(key)
	if !ok || strings.TrimSpace(raw) == "" {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil {
		l.fail(key, raw, "must be a whole number")
		return def
	}
	if n < min || n > max {
		l.fail(key, raw, "must be between %d and %d", min, max)
		return def
	}
	return n
}

func (l *loader) boolean(key string, def bool) bool {
	raw, ok := l.src.Lookup(key)
	if !ok || strings.TrimSpace(raw) == "" {
		return def
	}
	b, err := strconv.ParseBool(strings.TrimSpace(raw))
	if err != nil {
		l.fail(key, raw, "must be true or false")
		return def
	}
	return b
}

func (l *loader) prefix(key, def string) netip.Prefix {
	raw := l.str(key, def)
	if raw == "" {
		return netip.Prefix{}
	}
	p, err := netip.ParsePrefix(raw)
	if err != nil || !p.Addr().Is4() {
		l.fail(key, raw, "must be an IPv4 CIDR prefix such as 10.50.1.0/27")
		return netip.Prefix{}
	}
	if p.Masked() != p {
		l.fail(key, raw, "has host bits set; did you mean %s?", p.Masked())
		return netip.Prefix{}
	}
	return p
}

func (l *loader) match(key, value string, re *regexp.Regexp, rule string) {
	if value != "" && !re.MatchString(value) {
		l.fail(key, value, "%s", rule)
	}
}

var (
	// Docker's tag grammar: https://docs.docker.com/reference/cli/docker/image/tag/
	tagRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	// Repository path components: lowercase alphanumerics with separators.
	repoRe        = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	loginServerRe = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9](:[0-9]+)?$`)
	locationRe    = regexp.MustCompile(`^[a-z][a-z0-9]+$`)
	rgNameRe      = regexp.MustCompile(`^[-\w._()]{1,89}[-\w_()]$`)
	namePrefixRe  = regexp.MustCompile(`^[a-z][a-z0-9-]{1,30}[a-z0-9]$`)
	dnsLabelRe    = regexp.MustCompile(`^[a-z][a-z0-9-]{1,61}[a-z0-9]$`)
	vmSizeRe      = regexp.MustCompile(`^Standard_[A-Za-z0-9_]+$`)
	storageNameRe = regexp.MustCompile(`^[a-z0-9]{3,24}$`)
	semverRe      = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
	usernameRe    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]{0,19}$`)
	durationRe    = regexp.MustCompile(`^PT(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+S)?$`)
	pathRe        = regexp.MustCompile(`^/[A-Za-z0-9._~/-]*$`)
	envLineRe     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=.*$`)
	sourceRe      = regexp.MustCompile(`^(?:[A-Za-z][A-Za-z0-9.]*|[0-9./]+)$`)
)

// Admin user names Azure refuses for Windows VMs.
var reservedUsernames = map[string]bool{
	"administrator": true, "admin": true, "user": true, "user1": true, "test": true, "user2": true,
	"test1": true, "user3": true, "admin1": true, "1": true, "123": true, "a": true, "actuser": true,
	"adm": true, "admin2": true, "aspnet": true, "backup": true, "console": true, "david": true,
	"guest": true, "john": true, "owner": true, "root": true, "server": true, "sql": true,
	"support": true, "support_388945a0": true, "sys": true, "test2": true, "test3": true, "user4": true, "user5": true,
}

// Ports the bot range must never cover: RDP and WinRM stay closed on the hosts.
var managementPorts = map[int]string{3389: "RDP", 5985: "WinRM", 5986: "WinRM over HTTPS"}

// Load reads and validates the whole stack config. It returns every problem it finds,
// joined, and a nil Config unless the config is valid.
func Load(stack string, src Source, opts Options) (*Config, error) {
	l := &loader{src: src, opts: opts}
	c := &Config{Stack: stack}

	c.Location = l.required("location")
	l.match("location", c.Location, locationRe, "must be an Azure region name such as westeurope")

	c.NamePrefix = l.str("namePrefix", "botpool-"+strings.ToLower(stack))
	l.match("namePrefix", c.NamePrefix, namePrefixRe,
		"must be 3-32 lowercase letters, digits or hyphens, starting with a letter")

	if existing := l.str("existingResourceGroupName", ""); existing != "" {
		c.ResourceGroupName, c.CreateResourceGroup = existing, false
		l.match("existingResourceGroupName", existing, rgNameRe, "must be a valid resource group name")
	} else {
		c.ResourceGroupName, c.CreateResourceGroup = "rg-"+c.NamePrefix, true
	}

	c.loadImage(l)
	c.loadNetwork(l)
	c.loadPool(l)
	c.loadBots(l)
	c.loadRollout(l)
	c.loadHealth(l)

	c.StorageAccountName = l.str("storageAccountName", "")
	l.match("storageAccountName", c.StorageAccountName, storageNameRe,
		"must be 3-24 lowercase letters or digits (storage account names are global)")

	if len(l.errs) == 0 {
		c.checkCrossKeys(l)
	}
	if len(l.errs) > 0 {
		return nil, fmt.Errorf("invalid stack config for %q:\n%w", stack, errors.Join(l.errs...))
	}
	return c, nil
}

func (c *Config) loadImage(l *loader) {
	im := &c.Image
	im.ExistingVersionID = l.str("existingImageVersionId", "")
	if im.ExistingVersionID != "" {
		if r, err := ParseResourceID(im.ExistingVersionID); err != nil ||
			!strings.EqualFold(r.Provider, "Microsoft.Compute/galleries/images/versions") {
			l.fail("existingImageVersionId", im.ExistingVersionID,
				"must be the ARM ID of a gallery image version (.../providers/Microsoft.Compute/galleries/G/images/I/versions/V)")
		}
		if _, set := l.src.Lookup("imageSourceId"); set {
			l.fail("imageSourceId", l.str("imageSourceId", ""), "must not be set together with existingImageVersionId")
		}
		return
	}
	im.SourceID = l.required("imageSourceId")
	if im.SourceID != "" {
		r, err := ParseResourceID(im.SourceID)
		if err != nil || !(strings.EqualFold(r.Provider, "Microsoft.Compute/images") ||
			strings.EqualFold(r.Provider, "Microsoft.Compute/virtualMachines")) {
			l.fail("imageSourceId", im.SourceID,
				"must be the ARM ID of a managed image (Microsoft.Compute/images) or a generalized VM (Microsoft.Compute/virtualMachines)")
		}
	}
	im.GalleryName = l.str("galleryName", strings.ReplaceAll(c.NamePrefix, "-", "_")+"_gallery")
	l.match("galleryName", im.GalleryName, regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.]{0,78}[A-Za-z0-9]$`),
		"must be letters, digits, underscores and periods, not starting or ending with a period")
	im.DefinitionName = l.str("imageDefinitionName", "gpu-bot-host")
	im.Publisher = l.str("imagePublisher", "botpool")
	im.Offer = l.str("imageOffer", "WindowsServer-Containers-GPU")
	im.Sku = l.str("imageSku", "2022-datacenter-gpu")
	im.HyperVGeneration = l.str("imageHyperVGeneration", "V2")
	if im.HyperVGeneration != "V1" && im.HyperVGeneration != "V2" {
		l.fail("imageHyperVGeneration", im.HyperVGeneration, "must be V1 or V2")
	}
	im.Version = l.str("imageVersion", "1.0.0")
	l.match("imageVersion", im.Version, semverRe, "must be MAJOR.MINOR.PATCH, e.g. 1.0.0")
}

func (c *Config) loadNetwork(l *loader) {
	n := &c.Network
	n.ExistingSubnetID = l.str("existingSubnetId", "")
	if n.ExistingSubnetID != "" {
		if r, err := ParseResourceID(n.ExistingSubnetID); err != nil ||
			!strings.EqualFold(r.Provider, "Microsoft.Network/virtualNetworks/subnets") {
			l.fail("existingSubnetId", n.ExistingSubnetID,
				"must be the ARM ID of a subnet (.../providers/Microsoft.Network/virtualNetworks/V/subnets/S)")
		}
		// The address plan needs the subnet's prefix; with an existing subnet it cannot be derived.
		if _, set := l.src.Lookup("subnetPrefix"); !set {
			l.fail("subnetPrefix", "", "is required with existingSubnetId: it must be that subnet's address prefix")
		}
		n.SubnetPrefix = l.prefix("subnetPrefix", "")
	} else {
		n.VnetAddressSpace = l.prefix("vnetAddressSpace", "10.50.0.0/16")
		n.SubnetPrefix = l.prefix("subnetPrefix", "10.50.1.0/27")
		if n.VnetAddressSpace.IsValid() && n.SubnetPrefix.IsValid() &&
			(!n.VnetAddressSpace.Contains(n.SubnetPrefix.Addr()) || n.SubnetPrefix.Bits() < n.VnetAddressSpace.Bits()) {
			l.fail("subnetPrefix", n.SubnetPrefix.String(), "must lie inside vnetAddressSpace %s", n.VnetAddressSpace)
		}
	}
	if n.SubnetPrefix.IsValid() {
		if _, err := addressplan.UsableCount(n.SubnetPrefix); err != nil {
			l.fail("subnetPrefix", n.SubnetPrefix.String(), "%v", err)
			n.SubnetPrefix = netip.Prefix{}
		}
	}
	n.DNSLabel = l.str("dnsLabel", c.NamePrefix)
	l.match("dnsLabel", n.DNSLabel, dnsLabelRe,
		"must be 3-63 lowercase letters, digits or hyphens, starting with a letter (it becomes <label>.<region>.cloudapp.azure.com)")
	n.AllowedSources = []string{"Internet"}
	if raw := l.str("allowedSourceAddressPrefixes", ""); raw != "" {
		n.AllowedSources = nil
		for _, s := range strings.Split(raw, ",") {
			s = strings.TrimSpace(s)
			if s == "*" || s == "" || !sourceRe.MatchString(s) {
				l.fail("allowedSourceAddressPrefixes", raw,
					"must be a comma-separated list of service tags or CIDR prefixes, without \"*\"")
				break
			}
			if strings.ContainsAny(s, "0123456789") && strings.Contains(s, ".") {
				if _, err := netip.ParsePrefix(s); err != nil {
					if _, err := netip.ParseAddr(s); err != nil {
						l.fail("allowedSourceAddressPrefixes", s, "is neither a service tag nor an IPv4 address or prefix")
						break
					}
				}
			}
			n.AllowedSources = append(n.AllowedSources, s)
		}
	}
}

func (c *Config) loadPool(l *loader) {
	p := &c.Pool
	p.VMSize = l.required("vmSize")
	l.match("vmSize", p.VMSize, vmSizeRe, "must be an Azure VM size such as Standard_NV12ads_A10_v5")
	p.Capacity = l.integer("capacity", 2, 0, 1000)
	p.MaxCapacity = l.integer("maxCapacity", p.Capacity, 1, 1000)
	if p.MaxCapacity < p.Capacity {
		l.fail("maxCapacity", strconv.Itoa(p.MaxCapacity), "must be at least capacity (%d)", p.Capacity)
	}
	p.AdminUsername = l.str("adminUsername", "botadmin")
	if !usernameRe.MatchString(p.AdminUsername) {
		l.fail("adminUsername", p.AdminUsername, "must be 1-20 letters, digits, '.', '_' or '-', starting with a letter")
	} else if reservedUsernames[strings.ToLower(p.AdminUsername)] {
		l.fail("adminUsername", p.AdminUsername, "is a name Azure reserves for Windows VMs")
	}
	p.AdminPassword = l.secret("adminPassword", true)
	if p.AdminPassword != "" && !l.opts.OpaqueSecrets {
		if msg := passwordProblem(p.AdminPassword); msg != "" {
			l.fail("adminPassword", "[secret]", "%s", msg)
		}
	}
}

// passwordProblem applies Azure's Windows admin password rules.
func passwordProblem(pw string) string {
	if len(pw) < 12 || len(pw) > 123 {
		return "must be 12 to 123 characters long"
	}
	classes := 0
	for _, has := range []func(rune) bool{
		func(r rune) bool { return r >= 'a' && r <= 'z' },
		func(r rune) bool { return r >= 'A' && r <= 'Z' },
		func(r rune) bool { return r >= '0' && r <= '9' },
		func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') },
	} {
		if strings.IndexFunc(pw, has) >= 0 {
			classes++
		}
	}
	if classes < 3 {
		return "must contain three of: a lowercase letter, an uppercase letter, a digit, a special character"
	}
	return ""
}

func (c *Config) loadBots(l *loader) {
	b := &c.Bots
	b.RegistryID = l.required("registryId")
	var registryName string
	if b.RegistryID != "" {
		r, err := ParseResourceID(b.RegistryID)
		if err != nil || !strings.EqualFold(r.Provider, "Microsoft.ContainerRegistry/registries") {
			l.fail("registryId", b.RegistryID,
				"must be the ARM ID of a container registry (/subscriptions/S/resourceGroups/G/providers/Microsoft.ContainerRegistry/registries/NAME)")
		} else {
			registryName = r.Name
		}
	}
	def := ""
	if registryName != "" {
		def = strings.ToLower(registryName) + ".azurecr.io"
	}
	b.RegistryLoginServer = l.str("registryLoginServer", def)
	l.match("registryLoginServer", b.RegistryLoginServer, loginServerRe, "must be a registry host name such as myregistry.azurecr.io")
	b.Repository = l.required("imageRepository")
	l.match("imageRepository", b.Repository, repoRe,
		"must be a lowercase repository path such as meeting-bot or bots/meeting-bot")
	b.Tag = l.required("imageTag")
	l.match("imageTag", b.Tag, tagRe,
		"must be a valid Docker tag: up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'")
	b.BasePort = l.integer("basePort", 8011, 1024, 65535)
	b.SlotsPerVM = l.integer("slotsPerVm", 4, 1, limits.MaxRulesPerNIC)
	b.ContainerPort = l.integer("containerPort", 443, 1, 65535)
	b.EnvFile = l.secret("botEnv", false)
	if b.EnvFile != "" && !l.opts.OpaqueSecrets {
		if msg := envFileProblem(b.EnvFile); msg != "" {
			l.fail("botEnv", "[secret]", "%s", msg)
		}
	}
}

// MaxEnvFileBytes keeps the env file, base64-encoded into the extension's protected
// command line, well inside Windows' 8,191-character command line limit.
const MaxEnvFileBytes = 4096

func envFileProblem(env string) string {
	if len(env) > MaxEnvFileBytes {
		return fmt.Sprintf("must be at most %d bytes (it travels on the extension's protected command line), got %d", MaxEnvFileBytes, len(env))
	}
	for i, line := range strings.Split(strings.ReplaceAll(env, "\r\n", "\n"), "\n") {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if !envLineRe.MatchString(line) {
			return fmt.Sprintf("line %d is not KEY=VALUE (env-file syntax)", i+1)
		}
	}
	return ""
}

func (c *Config) loadRollout(l *loader) {
	r := &c.Rollout
	r.MaxBatchInstancePercent = l.integer("maxBatchInstancePercent", 20, 5, 100)
	r.MaxUnhealthyInstancePercent = l.integer("maxUnhealthyInstancePercent", 20, 5, 100)
	r.MaxUnhealthyUpgradedInstancePercent = l.integer("maxUnhealthyUpgradedInstancePercent", 20, 0, 100)
	r.PauseTimeBetweenBatches = l.str("pauseTimeBetweenBatches", "PT0S")
	l.match("pauseTimeBetweenBatches", r.PauseTimeBetweenBatches, durationRe, "must be an ISO 8601 duration such as PT30S or PT2M")
	r.PrioritizeUnhealthyInstances = l.boolean("prioritizeUnhealthyInstances", true)
	if r.MaxUnhealthyInstancePercent < r.MaxBatchInstancePercent {
		// A batch in flight counts as unhealthy: a lower bound aborts the rollout on its first batch.
		l.fail("maxUnhealthyInstancePercent", strconv.Itoa(r.MaxUnhealthyInstancePercent),
			"must be at least maxBatchInstancePercent (%d): a batch in flight counts as unhealthy", r.MaxBatchInstancePercent)
	}
}

func (c *Config) loadHealth(l *loader) {
	h := &c.Health
	h.Port = l.integer("healthPort", 8000, 1024, 65535)
	h.Path = l.str("healthPath", "/healthz")
	l.match("healthPath", h.Path, pathRe, "must be an absolute URL path such as /healthz")
	// First boot, the NVIDIA driver and a pull of a large Windows image take a while.
	h.RepairGracePeriod = l.str("repairGracePeriod", "PT45M")
	if !durationRe.MatchString(h.RepairGracePeriod) {
		l.fail("repairGracePeriod", h.RepairGracePeriod, "must be an ISO 8601 duration such as PT45M")
	} else if d := isoMinutes(h.RepairGracePeriod); d < 10 || d > 90 {
		l.fail("repairGracePeriod", h.RepairGracePeriod, "must be between PT10M and PT90M (Azure's range for automatic repairs)")
	}
	h.DrainPath = l.str("drainPath", "")
	l.match("drainPath", h.DrainPath, pathRe, "must be an absolute URL path such as /drain")
	h.DrainTimeoutSecond = l.integer("drainTimeoutSeconds", 60, 1, 3600)
}

// isoMinutes converts a validated PTxHyMzS duration to whole minutes.
func isoMinutes(d string) int {
	total := 0
	num := 0
	for _, r := range strings.TrimPrefix(d, "PT") {
		switch {
		case r >= '0' && r <= '9':
			num = num*10 + int(r-'0')
		case r == 'H':
			total, num = total+num*60, 0
		case r == 'M':
			total, num = total+num, 0
		case r == 'S':
			total, num = total+num/60, 0
		}
	}
	return total
}

// checkCrossKeys checks what depends on several keys: capacity against the subnet, the
// port range, and the load balancer limits. It runs only once every key parsed.
func (c *Config) checkCrossKeys(l *loader) {
	layout := c.Layout()
	usable, _ := addressplan.UsableCount(c.Network.SubnetPrefix)
	if c.Pool.MaxCapacity > usable {
		l.fail("maxCapacity", strconv.Itoa(c.Pool.MaxCapacity),
			"must be at most %d, the usable addresses of subnetPrefix %s (each VM's ordinal is its address)", usable, c.Network.SubnetPrefix)
	}
	ports, _ := layout.PortCount()
	last := layout.Port(usable-1, c.Bots.SlotsPerVM-1)
	if last > 65535 {
		l.fail("basePort", strconv.Itoa(c.Bots.BasePort),
			"with slotsPerVm %d and the %d usable addresses of subnetPrefix %s the bot ports run to %d, past 65535",
			c.Bots.SlotsPerVM, usable, c.Network.SubnetPrefix, last)
	}
	for port, what := range managementPorts {
		if port >= c.Bots.BasePort && port <= last {
			l.fail("basePort", strconv.Itoa(c.Bots.BasePort),
				"the bot port range %d-%d covers port %d (%s), which must stay closed", c.Bots.BasePort, last, port, what)
		}
	}
	if c.Health.Port >= c.Bots.BasePort && c.Health.Port <= last {
		l.fail("healthPort", strconv.Itoa(c.Health.Port),
			"collides with the bot port range %d-%d (basePort, slotsPerVm, subnetPrefix)", c.Bots.BasePort, last)
	}
	for _, v := range limits.Compute(ports, c.Pool.MaxCapacity).Violations() {
		keys := "subnetPrefix, slotsPerVm"
		detail := fmt.Sprintf("%d usable addresses x %d slots = %d rules, each on every NIC", usable, c.Bots.SlotsPerVM, ports)
		if v.Limit == "backend IP configurations per frontend" {
			keys = "subnetPrefix, slotsPerVm, maxCapacity"
			detail = fmt.Sprintf("%d rules x %d VMs (maxCapacity)", ports, c.Pool.MaxCapacity)
		}
		l.errs = append(l.errs, fmt.Errorf("%s:%s: %w (%s; driven by %s)",
			Namespace, strings.SplitN(keys, ",", 2)[0], v, detail, keys))
	}
}
