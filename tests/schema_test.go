package tests

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The program declares azure-native resources by type token with untyped pulumi.Map
// inputs (see azurenative), so nothing but the provider schema knows the property names:
// a misspelled one must fail here, not in a user's `pulumi up`.

// requireSchema returns a checker over the provider schema, skipping when it is absent.
func requireSchema(t *testing.T) *schemaChecker {
	t.Helper()
	dir, ok := schemaDir()
	if !ok {
		t.Skipf("azure-native schema not found at %s (set %s to its folder): inputs not checked against the provider schema",
			dir, schemaDirEnv)
	}
	return newSchemaChecker(dir)
}

// TestSchemaInputs checks every input every azure-native resource of each stack sends,
// recursively, against the provider schema: names, required inputs and leaf types.
func TestSchemaInputs(t *testing.T) {
	c := requireSchema(t)
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			rec, _ := runStack(t, stack)
			checked := 0
			for _, r := range rec.Resources() {
				if !strings.HasPrefix(r.Type, "azure-native:") {
					continue
				}
				checked++
				for _, p := range c.CheckResource(r.Type, r.Name, r.Inputs) {
					t.Errorf("%s", p)
				}
			}
			require.NotZero(t, checked, "the %s stack registered no azure-native resources: nothing was checked", stack)
		})
	}
}

// TestSchemaCheckerReachesEveryObject proves the stack test is not vacuous: a property
// slipped into any object the program sends is reported at its path, unless the checker
// says it took that object as free-form (extension settings, tags).
func TestSchemaCheckerReachesEveryObject(t *testing.T) {
	c := requireSchema(t)
	rec, _ := runStack(t, "dev")
	const typo = "zzMisspelt"
	injected, freeForm := 0, map[string]bool{}
	for _, r := range rec.Resources() {
		if !strings.HasPrefix(r.Type, "azure-native:") {
			continue
		}
		_, free := c.check(r.Type, r.Name, r.Inputs)
		isFree := func(path string) bool {
			for _, f := range free {
				if path == f || f == "" || strings.HasPrefix(path, f+".") || strings.HasPrefix(path, f+"[") {
					return true
				}
			}
			return false
		}
		objects := map[string]resource.PropertyMap{"": r.Inputs}
		for k, v := range r.Inputs {
			collectObjects(join("", string(k)), v, objects)
		}
		for path, obj := range objects {
			obj[typo] = resource.NewStringProperty("x")
			problems := c.CheckResource(r.Type, r.Name, r.Inputs)
			delete(obj, typo)
			injected++
			if isFree(path) {
				assert.Empty(t, problems, "%s %s: %s is free-form", r.Type, r.Name, path)
				freeForm[r.Type+" "+path] = true
				continue
			}
			want := r.Type + " " + r.Name + ": " + join(path, typo) + ": unknown property"
			if assert.Len(t, problems, 1, "typo injected at %s %s: %s", r.Type, r.Name, join(path, typo)) {
				assert.True(t, strings.HasPrefix(problems[0], want), "got %q, want %q", problems[0], want)
			}
		}
	}
	require.NotZero(t, injected)
	free := make([]string, 0, len(freeForm))
	for p := range freeForm {
		free = append(free, p)
	}
	sort.Strings(free)
	t.Logf("a misspelling injected into each of %d objects sent is caught, but in these free-form ones:\n  %s",
		injected, strings.Join(free, "\n  "))
}

// collectObjects adds every object within v, by path.
func collectObjects(path string, v resource.PropertyValue, out map[string]resource.PropertyMap) {
	v, known := unwrap(v)
	switch {
	case !known:
	case v.IsObject():
		out[path] = v.ObjectValue()
		for k, e := range v.ObjectValue() {
			collectObjects(join(path, string(k)), e, out)
		}
	case v.IsArray():
		for i, e := range v.ArrayValue() {
			collectObjects(fmt.Sprintf("%s[%d]", path, i), e, out)
		}
	}
}

// TestSchemaCheckerCatches proves the checker reports what it should, at the right path.
func TestSchemaCheckerCatches(t *testing.T) {
	c := requireSchema(t)
	str := resource.NewStringProperty
	num := resource.NewNumberProperty
	obj := func(m resource.PropertyMap) resource.PropertyValue { return resource.NewObjectProperty(m) }
	arr := func(vs ...resource.PropertyValue) resource.PropertyValue { return resource.NewArrayProperty(vs) }
	sub := func(id string) resource.PropertyValue { return obj(resource.PropertyMap{"id": str(id)}) }

	rule := func(extra resource.PropertyMap) resource.PropertyValue {
		m := resource.PropertyMap{
			"name":                    str("bot-0"),
			"protocol":                str("Tcp"),
			"frontendPort":            num(50000),
			"backendPort":             num(3389),
			"frontendIPConfiguration": sub("/fe"),
			"backendAddressPool":      sub("/pool"),
			"probe":                   sub("/probe"),
		}
		for k, v := range extra {
			m[k] = v
		}
		return obj(m)
	}
	lb := func(rules ...resource.PropertyValue) resource.PropertyMap {
		return resource.PropertyMap{
			"resourceGroupName":  str("rg"),
			"loadBalancerName":   str("lb"),
			"location":           str("westeurope"),
			"sku":                obj(resource.PropertyMap{"name": str("Standard")}),
			"tags":               obj(resource.PropertyMap{"app": str("botpool"), "cost center": str("x")}),
			"loadBalancingRules": arr(rules...),
		}
	}
	const lbType = "azure-native:network:LoadBalancer"

	vmss := func(osProfile resource.PropertyMap) resource.PropertyMap {
		return resource.PropertyMap{
			"resourceGroupName": str("rg"),
			"vmScaleSetName":    str("vmss"),
			"sku":               obj(resource.PropertyMap{"name": str("Standard_NC4as_T4_v3"), "capacity": num(2)}),
			"virtualMachineProfile": obj(resource.PropertyMap{
				"osProfile": obj(osProfile),
			}),
		}
	}
	const vmssType = "azure-native:compute:VirtualMachineScaleSet"
	secret := func(v resource.PropertyValue) resource.PropertyValue {
		return resource.MakeSecret(v)
	}

	t.Run("valid inputs pass", func(t *testing.T) {
		assert.Empty(t, c.CheckResource(lbType, "lb", lb(rule(nil), rule(resource.PropertyMap{
			"loadDistribution": str("SourceIP"), "enableFloatingIP": resource.NewBoolProperty(false),
		}))))
		assert.Empty(t, c.CheckResource(vmssType, "vmss", vmss(resource.PropertyMap{
			"computerNamePrefix": str("bot"),
			"adminUsername":      str("botadmin"),
			"adminPassword":      secret(str("pw")),
		})))
		// Unknown values are skipped; known outputs are checked inside.
		assert.Empty(t, c.CheckResource(lbType, "lb", lb(rule(resource.PropertyMap{
			"probe": resource.MakeComputed(str("")),
			"name":  resource.NewOutputProperty(resource.Output{Element: str("x"), Known: true}),
		}))))
	})

	t.Run("misspelled property in an array item", func(t *testing.T) {
		bad := rule(nil)
		bad.ObjectValue()["frontendPortt"] = num(50001)
		assert.Equal(t, []string{
			lbType + " lb: loadBalancingRules[1].frontendPortt: unknown property (did you mean \"frontendPort\"?)",
		}, c.CheckResource(lbType, "lb", lb(rule(nil), bad)))
	})

	t.Run("misspelled property behind a $ref", func(t *testing.T) {
		bad := rule(nil)
		bad.ObjectValue()["probe"] = obj(resource.PropertyMap{"idd": str("/probe")})
		assert.Equal(t, []string{
			lbType + " lb: loadBalancingRules[0].probe.idd: unknown property (did you mean \"id\"?)",
		}, c.CheckResource(lbType, "lb", lb(bad)))
	})

	t.Run("misspelled property nested through several $refs, inside a secret", func(t *testing.T) {
		assert.Equal(t, []string{
			vmssType + " vmss: virtualMachineProfile.osProfile.adminPasswrd: unknown property (did you mean \"adminPassword\"?)",
		}, c.CheckResource(vmssType, "vmss", vmss(resource.PropertyMap{
			"adminUsername": str("botadmin"),
			"adminPasswrd":  secret(str("pw")),
		})))
	})

	t.Run("wrong leaf types", func(t *testing.T) {
		bad := rule(resource.PropertyMap{
			"frontendPort":     str("50000"),
			"backendPort":      num(3389.5),
			"enableFloatingIP": str("false"),
		})
		assert.Equal(t, []string{
			lbType + " lb: loadBalancingRules[0].backendPort: schema wants an integer, got 3389.5",
			lbType + " lb: loadBalancingRules[0].enableFloatingIP: schema wants a boolean, got string",
			lbType + " lb: loadBalancingRules[0].frontendPort: schema wants an integer, got string",
		}, c.CheckResource(lbType, "lb", lb(bad)))
		// A secret adminPassword is still checked inside: it must be a string.
		assert.Equal(t, []string{
			vmssType + " vmss: virtualMachineProfile.osProfile.adminPassword: schema wants a string, got number",
		}, c.CheckResource(vmssType, "vmss", vmss(resource.PropertyMap{"adminPassword": secret(num(1234))})))
		// Tag values are typed strings; an enum-or-string property wants a string.
		in := lb(rule(resource.PropertyMap{"protocol": num(6)}))
		in["tags"] = obj(resource.PropertyMap{"n": num(1)})
		assert.Equal(t, []string{
			lbType + " lb: loadBalancingRules[0].protocol: schema wants one of string | TransportProtocol (string), got number",
			lbType + " lb: tags.n: schema wants a string, got number",
		}, c.CheckResource(lbType, "lb", in))
	})

	t.Run("missing required inputs", func(t *testing.T) {
		in := lb(rule(nil))
		delete(in, "resourceGroupName")
		delete(in["loadBalancingRules"].ArrayValue()[0].ObjectValue(), "protocol")
		assert.Equal(t, []string{
			lbType + " lb: loadBalancingRules[0].protocol: required by the schema but missing",
			lbType + " lb: resourceGroupName: required by the schema but missing",
		}, c.CheckResource(lbType, "lb", in))
	})

	t.Run("unknown resource type", func(t *testing.T) {
		assert.Equal(t, []string{
			"azure-native:network:LoadBalancr lb: unknown resource type: the schema has no network/resources/LoadBalancr.yaml",
		}, c.CheckResource("azure-native:network:LoadBalancr", "lb", lb()))
	})
}
