package config

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// StackSource reads config from the running Pulumi program.
type StackSource struct{ Ctx *pulumi.Context }

func (s StackSource) key(k string) string { return Namespace + ":" + k }

// Lookup implements Source.
func (s StackSource) Lookup(key string) (string, bool) { return s.Ctx.GetConfig(s.key(key)) }

// IsSecret implements Source.
func (s StackSource) IsSecret(key string) bool { return s.Ctx.IsConfigSecret(s.key(key)) }

// MapSource is config given as a map of keys without namespace, and the set of secret keys.
type MapSource struct {
	Values  map[string]string
	Secrets map[string]bool
}

// Lookup implements Source.
func (m MapSource) Lookup(key string) (string, bool) { v, ok := m.Values[key]; return v, ok }

// IsSecret implements Source.
func (m MapSource) IsSecret(key string) bool { return m.Secrets[key] }
