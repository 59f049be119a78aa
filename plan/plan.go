// Package plan is the offline plan behind cmd/plan: it runs the botpool program
// (program.New, the function `pulumi up` runs) under Pulumi's mock monitor with a stack's
// config, and reports what it registered, the stack outputs, the bot address book and the
// load balancer limit usage, as text for people or as JSON for machines.
//
// The plan declares nothing itself: every resource it reports was registered by the
// program, through mockcloud's recorder.
package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/botpool/botpool/addressplan"
	"github.com/botpool/botpool/config"
	"github.com/botpool/botpool/limits"
	"github.com/botpool/botpool/mockcloud"
	"github.com/botpool/botpool/network"
	"github.com/botpool/botpool/program"
	"github.com/botpool/botpool/rollout"
)

// Options are the program options of a plan: secure values are placeholders, so their
// presence is checked and their content is not.
var Options = config.Options{OpaqueSecrets: true}

// How values the plan cannot show are rendered.
const (
	SecretText  = "[secret]"
	UnknownText = "[unknown]"
)

// Result is a plan: what the program registered for a stack, and what it means.
type Result struct {
	Project string
	Stack   string
	// Config is the validated stack config (the same config.Load the program ran).
	Config *config.Config
	// Recorded is every registration as the mock monitor saw it, sorted by type then name.
	Recorded  []mockcloud.Resource
	Resources []Resource
	Outputs   map[string]any
	Bots      []Bot
	Limits    Limits
	Rollout   Rollout
}

// Rollout is the disruption a tag change causes (see rollout.Disruption), with the config
// values it follows from.
type Rollout struct {
	Capacity                int `json:"capacity"`
	MaxBatchInstancePercent int `json:"maxBatchInstancePercent"`
	rollout.Disruption
}

// Resource is one registration with its inputs rendered (see RenderInputs).
type Resource struct {
	Type   string         `json:"type"`
	Name   string         `json:"name"`
	Parent string         `json:"parent"`
	Inputs map[string]any `json:"inputs"`
}

// Bot is one row of the address book: the bot on slot Slot of the VM holding PrivateIP
// answers on Address.
type Bot struct {
	Ordinal   int    `json:"ordinal"`
	PrivateIP string `json:"privateIp"`
	Slot      int    `json:"slot"`
	Port      int    `json:"port"`
	Address   string `json:"address"`
}

// Limit is the use of one Standard Load Balancer limit.
type Limit struct {
	Used int `json:"used"`
	Max  int `json:"max"`
}

// Headroom is what is left of the limit, as a percentage of it.
func (l Limit) Headroom() float64 { return 100 * float64(l.Max-l.Used) / float64(l.Max) }

// Limits is the pool's use of the load balancer limits.
type Limits struct {
	RulesPerNIC                 Limit `json:"rulesPerNic"`
	RulesPerLoadBalancer        Limit `json:"rulesPerLoadBalancer"`
	BackendIPConfigsPerFrontend Limit `json:"backendIpConfigsPerFrontend"`
}

// Run plans stack: it runs program.New under the mock monitor. An invalid config returns
// the program's error, the validation messages `pulumi up` shows.
func Run(stack mockcloud.Stack) (*Result, error) {
	var outs mockcloud.Outputs
	rec, err := mockcloud.Run(stack, program.New(Options, outs.Observe))
	if err != nil {
		return nil, ProgramError(err)
	}
	r := &Result{Project: stack.Project, Stack: stack.Name, Outputs: outs.Values()}
	r.Recorded = rec.Resources()
	r.Resources = make([]Resource, len(r.Recorded))
	for i, x := range r.Recorded {
		r.Resources[i] = Resource{Type: x.Type, Name: x.Name, Parent: x.Parent, Inputs: RenderInputs(x.Inputs)}
	}

	// The program validated this config already; load it again for the address book.
	r.Config, err = config.Load(stack.Name, Source(stack), Options)
	if err != nil {
		return nil, fmt.Errorf("plan: the program accepted a config config.Load rejects: %w", err)
	}
	layout := r.Config.Layout()
	ap, err := addressplan.Build(layout, nil)
	if err != nil {
		return nil, fmt.Errorf("plan: address plan: %w", err)
	}
	host := network.FQDN(r.Config.Network.DNSLabel, r.Config.Location)
	ports, _ := layout.PortCount()
	r.Bots = make([]Bot, 0, ports)
	for _, h := range ap.Hosts {
		for _, b := range h.Bots {
			r.Bots = append(r.Bots, Bot{
				Ordinal: h.Ordinal, PrivateIP: h.PrivateIP, Slot: b.Slot, Port: b.Port,
				Address: host + ":" + strconv.Itoa(b.Port),
			})
		}
	}
	u := r.Config.Usage()
	r.Limits = Limits{
		RulesPerNIC:                 Limit{u.RulesPerNIC, limits.MaxRulesPerNIC},
		RulesPerLoadBalancer:        Limit{u.RulesPerLoadBalancer, limits.MaxRulesPerLoadBalancer},
		BackendIPConfigsPerFrontend: Limit{u.BackendIPConfigsPerFrontend, limits.MaxBackendIPConfigsPerFrontend},
	}
	pct := r.Config.Rollout.MaxBatchInstancePercent
	r.Rollout = Rollout{
		Capacity: r.Config.Pool.Capacity, MaxBatchInstancePercent: pct,
		Disruption: rollout.Measure(r.Config.Pool.Capacity, layout.SlotsPerVM, pct),
	}
	return r, nil
}

// Source is the stack's config as config.Load reads it: keys of the botpool namespace.
func Source(stack mockcloud.Stack) config.MapSource {
	src := config.MapSource{Values: map[string]string{}, Secrets: map[string]bool{}}
	prefix := config.Namespace + ":"
	for k, v := range stack.Config {
		if key, ok := strings.CutPrefix(k, prefix); ok {
			src.Values[key] = v
		}
	}
	for _, k := range stack.SecretKeys {
		if key, ok := strings.CutPrefix(k, prefix); ok {
			src.Secrets[key] = true
		}
	}
	return src
}

// ProgramError takes the program's own error out of the Pulumi runner's wrapping
// (a multierror of the program's error and any output registration failure), so that the
// config validation messages print as config.Load wrote them, one per line.
func ProgramError(err error) error {
	var multi interface{ WrappedErrors() []error }
	if errors.As(err, &multi) {
		if errs := multi.WrappedErrors(); len(errs) > 0 {
			return errors.Join(errs...)
		}
	}
	return err
}

// RenderInputs renders registered inputs as JSON-ready values: secrets (at any depth)
// as "[secret]", unknowns as "[unknown]", text assets as their content's hash and size,
// file assets as their file name, resource references as their ID. The result never depends on map iteration order once
// encoded (encoding/json sorts keys).
func RenderInputs(m resource.PropertyMap) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[string(k)] = RenderValue(v)
	}
	return out
}

// RenderValue renders one property value (see RenderInputs).
func RenderValue(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return SecretText
	case v.IsComputed():
		return UnknownText
	case v.IsOutput():
		o := v.OutputValue()
		switch {
		case o.Secret:
			return SecretText
		case !o.Known:
			return UnknownText
		}
		return RenderValue(o.Element)
	case v.IsNull():
		return nil
	case v.IsBool():
		return v.BoolValue()
	case v.IsNumber():
		return v.NumberValue()
	case v.IsString():
		return v.StringValue()
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = RenderValue(e)
		}
		return out
	case v.IsObject():
		return RenderInputs(v.ObjectValue())
	case v.IsAsset():
		a := v.AssetValue()
		switch {
		case a.IsText():
			sum := sha256.Sum256([]byte(a.Text))
			return map[string]any{"asset": map[string]any{"sha256": hex.EncodeToString(sum[:]), "size": len(a.Text)}}
		case a.IsPath():
			// Only the file's name: its directory is the machine's (the host agent is
			// built into the user's cache) and its bytes the toolchain's. The program
			// names built files after their source hash, so the name is what changes
			// when the content should.
			return map[string]any{"asset": map[string]any{"file": filepath.Base(a.Path)}}
		default:
			return map[string]any{"asset": map[string]any{"uri": a.URI}}
		}
	case v.IsArchive():
		a := v.ArchiveValue()
		return map[string]any{"archive": map[string]any{"hash": a.Hash, "path": a.Path, "uri": a.URI}}
	case v.IsResourceReference():
		ref := v.ResourceReferenceValue()
		if id, ok := ref.IDString(); ok {
			return id
		}
		return string(ref.URN)
	}
	return fmt.Sprintf("[unrenderable %T]", v.V)
}

// TypeCount is how many resources of a type the plan registers.
type TypeCount struct {
	Type  string
	Count int
}

// TypeCounts counts the resources by type, sorted by type.
func (r *Result) TypeCounts() []TypeCount {
	n := map[string]int{}
	for _, x := range r.Resources {
		n[x.Type]++
	}
	out := make([]TypeCount, 0, len(n))
	for t, c := range n {
		out = append(out, TypeCount{t, c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}
