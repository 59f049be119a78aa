// Package mockcloud runs the botpool program under Pulumi's mock monitor and records what
// it registers: the tests and the offline plan (cmd/plan) both use it, so what they see is
// exactly what `pulumi up` would send to the engine.
package mockcloud

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	az "github.com/botpool/botpool/azurenative"
)

// SubscriptionID is the subscription the mock provider reports.
const SubscriptionID = "00000000-0000-0000-0000-00000000c0de"

// Resource is one registered resource.
type Resource struct {
	Type   string
	Name   string
	Parent string // the parent's name, empty for top-level resources
	Custom bool
	Inputs resource.PropertyMap
}

// Recorder is a pulumi.MockResourceMonitor that records registrations.
type Recorder struct {
	mu        sync.Mutex
	resources []Resource
}

// Resources returns the registrations sorted by type, then name.
func (r *Recorder) Resources() []Resource {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]Resource(nil), r.resources...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// ID is the mock ID of a resource.
func ID(name string) string { return "mock-id:" + name }

// NewResource implements pulumi.MockResourceMonitor: the state is the inputs plus the
// outputs the program reads.
func (r *Recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	parent := ""
	if args.RegisterRPC != nil {
		// The root stack resource is no parent worth naming.
		if p := args.RegisterRPC.GetParent(); p != "" && !strings.Contains(p, "::pulumi:pulumi:Stack::") {
			parent = p[strings.LastIndex(p, "::")+2:]
		}
	}
	r.mu.Lock()
	r.resources = append(r.resources, Resource{
		Type: args.TypeToken, Name: args.Name, Parent: parent, Custom: args.Custom, Inputs: args.Inputs,
	})
	r.mu.Unlock()

	state := args.Inputs.Copy()
	if args.TypeToken == string(az.ScaleSet) {
		// The system-assigned identity's object ID, stable per scale set.
		principal := uuid.NewSHA1(uuid.NameSpaceOID, []byte(args.Name)).String()
		state["identity"] = resource.NewObjectProperty(resource.PropertyMap{
			"type":        resource.NewStringProperty("SystemAssigned"),
			"principalId": resource.NewStringProperty(principal),
		})
	}
	return ID(args.Name), state, nil
}

// Call implements pulumi.MockResourceMonitor.
func (r *Recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	if args.Token == az.GetClientConfig {
		return resource.PropertyMap{
			"subscriptionId": resource.NewStringProperty(SubscriptionID),
			"tenantId":       resource.NewStringProperty("00000000-0000-0000-0000-0000000000aa"),
			"clientId":       resource.NewStringProperty("00000000-0000-0000-0000-0000000000bb"),
			"objectId":       resource.NewStringProperty("00000000-0000-0000-0000-0000000000cc"),
		}, nil
	}
	return nil, fmt.Errorf("mockcloud: no mock for invoke %s", args.Token)
}

// Stack is a stack to run: its name and its config, keys with their namespace
// ("botpool:imageTag"), and which keys are secret.
type Stack struct {
	Project    string
	Name       string
	Config     map[string]string
	SecretKeys []string
}

// Run runs prog as stack under the mock monitor and returns what it registered.
func Run(stack Stack, prog pulumi.RunFunc) (*Recorder, error) {
	rec := &Recorder{}
	withConfig := func(info *pulumi.RunInfo) {
		info.Config = stack.Config
		info.ConfigSecretKeys = stack.SecretKeys
	}
	err := pulumi.RunErr(prog, pulumi.WithMocks(stack.Project, stack.Name, rec), withConfig)
	return rec, err
}

// Outputs collects stack outputs through a program.Observer.
type Outputs struct {
	mu     sync.Mutex
	wg     sync.WaitGroup
	values map[string]any
}

// Observe is a program.Observer: it resolves every output into the collection.
func (o *Outputs) Observe(outputs pulumi.Map) {
	for k, v := range outputs {
		k := k
		o.wg.Add(1)
		pulumi.ToOutput(v).ApplyT(func(x any) any {
			defer o.wg.Done()
			o.mu.Lock()
			defer o.mu.Unlock()
			if o.values == nil {
				o.values = map[string]any{}
			}
			o.values[k] = x
			return x
		})
	}
}

// Values waits for every observed output and returns them by name.
func (o *Outputs) Values() map[string]any {
	o.wg.Wait()
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]any, len(o.values))
	for k, v := range o.values {
		out[k] = v
	}
	return out
}
