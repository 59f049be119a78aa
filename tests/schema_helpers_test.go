package tests

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"gopkg.in/yaml.v3"
)

// schemaDirEnv overrides where the azure-native provider schema is read from.
const schemaDirEnv = "BOTPOOL_SCHEMA_DIR"

// defaultSchemaDir is the schema's place relative to this package's directory: the repo
// and shared/ are siblings, locally (/work/main, /work/shared) and in CI.
var defaultSchemaDir = filepath.Join("..", "..", "shared", "reference", "azure-native-schema")

// schemaDir is the schema folder to use, and whether it exists.
func schemaDir() (string, bool) {
	dir := defaultSchemaDir
	if d := os.Getenv(schemaDirEnv); d != "" {
		dir = d
	}
	st, err := os.Stat(dir)
	return dir, err == nil && st.IsDir()
}

// node is one decoded schema node: a property, an item or a type.
type node = map[string]any

// schemaChecker checks resource inputs against the azure-native schema, one YAML file per
// resource (<module>/resources/<Name>.yaml) and per type (<module>/types/<Type>.yaml).
type schemaChecker struct {
	dir string

	mu    sync.Mutex
	cache map[string]node // by path relative to dir; nil for a file that does not exist
	errs  map[string]error
}

func newSchemaChecker(dir string) *schemaChecker {
	return &schemaChecker{dir: dir, cache: map[string]node{}, errs: map[string]error{}}
}

// load reads and caches one schema file; (nil, nil) when it does not exist.
func (c *schemaChecker) load(rel string) (node, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.cache[rel]; ok {
		return n, c.errs[rel]
	}
	var n node
	raw, err := os.ReadFile(filepath.Join(c.dir, rel))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		err = nil
	case err == nil:
		if err = yaml.Unmarshal(raw, &n); err == nil && n == nil {
			n = node{}
		}
	}
	if err != nil {
		err = fmt.Errorf("schema file %s: %w", rel, err)
	}
	c.cache[rel], c.errs[rel] = n, err
	return n, err
}

// splitToken splits azure-native:<module>:<Name>.
func splitToken(token string) (module, name string, ok bool) {
	parts := strings.Split(token, ":")
	if len(parts) != 3 || parts[0] != "azure-native" || parts[1] == "" || parts[2] == "" {
		return "", "", false
	}
	return parts[1], parts[2], true
}

// CheckResource returns every problem of one resource's inputs, each as
// "<type> <name>: <path>: <what is wrong>".
func (c *schemaChecker) CheckResource(token, name string, inputs resource.PropertyMap) []string {
	problems, _ := c.check(token, name, inputs)
	return problems
}

// check is CheckResource that also returns the paths of the values it took as free-form
// (pulumi.json#/Any, maps' keys, objects the schema gives no properties), where a
// misspelling cannot be caught.
func (c *schemaChecker) check(token, name string, inputs resource.PropertyMap) (problems, free []string) {
	prefix := token + " " + name + ": "
	module, typ, ok := splitToken(token)
	if !ok {
		return []string{prefix + "not an azure-native:<module>:<Name> type token"}, nil
	}
	rel := filepath.Join(module, "resources", typ+".yaml")
	res, err := c.load(rel)
	if err != nil {
		return []string{prefix + err.Error()}, nil
	}
	if res == nil {
		return []string{prefix + "unknown resource type: the schema has no " + filepath.ToSlash(rel)}, nil
	}
	props, _ := res["inputProperties"].(node)
	w := walker{c: c}
	w.object("", props, stringList(res["requiredInputs"]), inputs)
	problems = make([]string, len(w.problems))
	for i, p := range w.problems {
		problems[i] = prefix + p
	}
	return problems, w.free
}

// walker collects problems below one resource, and the paths it could not check.
type walker struct {
	c        *schemaChecker
	problems []string
	free     []string
}

func (w *walker) addf(path, format string, args ...any) {
	if path == "" {
		path = "<inputs>"
	}
	w.problems = append(w.problems, path+": "+fmt.Sprintf(format, args...))
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// join appends a property name to a path.
func join(path, key string) string {
	if !identifier.MatchString(key) {
		return fmt.Sprintf("%s[%q]", path, key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// object checks an object's keys against props and its required keys.
func (w *walker) object(path string, props node, required []string, obj resource.PropertyMap) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := join(path, k)
		schema, ok := props[k].(node)
		if !ok {
			if s := closest(k, props); s != "" {
				w.addf(p, "unknown property (did you mean %q?)", s)
			} else {
				w.addf(p, "unknown property")
			}
			continue
		}
		w.value(p, schema, obj[resource.PropertyKey(k)])
	}
	for _, r := range required {
		if v, ok := obj[resource.PropertyKey(r)]; !ok || v.IsNull() {
			w.addf(join(path, r), "required by the schema but missing")
		}
	}
}

// unwrap removes secret and output wrappers; ok is false for a value not known yet.
func unwrap(v resource.PropertyValue) (resource.PropertyValue, bool) {
	for {
		switch {
		case v.IsSecret():
			v = v.SecretValue().Element
		case v.IsComputed():
			return v, false
		case v.IsOutput():
			o := v.OutputValue()
			if !o.Known {
				return v, false
			}
			v = o.Element
		default:
			return v, true
		}
	}
}

// kind names a value's shape for messages.
func kind(v resource.PropertyValue) string {
	switch {
	case v.IsString():
		return "string"
	case v.IsNumber():
		return "number"
	case v.IsBool():
		return "boolean"
	case v.IsArray():
		return "array"
	case v.IsObject():
		return "object"
	case v.IsAsset():
		return "asset"
	case v.IsArchive():
		return "archive"
	case v.IsResourceReference():
		return "resource reference"
	}
	return v.TypeString()
}

// value checks one value against its schema node.
func (w *walker) value(path string, schema node, v resource.PropertyValue) {
	v, known := unwrap(v)
	if !known || v.IsNull() {
		return
	}
	if alts, ok := schema["oneOf"].([]any); ok {
		w.oneOf(path, alts, v)
		return
	}
	if ref, ok := schema["$ref"].(string); ok {
		w.ref(path, ref, v)
		return
	}
	t, _ := schema["type"].(string)
	switch t {
	case "":
		w.free = append(w.free, path) // no type: nothing to check
	case "string":
		if !v.IsString() {
			w.addf(path, "schema wants a string, got %s", kind(v))
		} else if c, ok := schema["const"].(string); ok && v.StringValue() != c {
			w.addf(path, "schema wants the constant %q, got %q", c, v.StringValue())
		}
	case "integer":
		if !v.IsNumber() {
			w.addf(path, "schema wants an integer, got %s", kind(v))
		} else if n := v.NumberValue(); n != math.Trunc(n) {
			w.addf(path, "schema wants an integer, got %v", n)
		}
	case "number":
		if !v.IsNumber() {
			w.addf(path, "schema wants a number, got %s", kind(v))
		}
	case "boolean":
		if !v.IsBool() {
			w.addf(path, "schema wants a boolean, got %s", kind(v))
		}
	case "array":
		if !v.IsArray() {
			w.addf(path, "schema wants an array, got %s", kind(v))
			return
		}
		items, _ := schema["items"].(node)
		for i, e := range v.ArrayValue() {
			w.value(fmt.Sprintf("%s[%d]", path, i), items, e)
		}
	case "object":
		if !v.IsObject() {
			w.addf(path, "schema wants an object, got %s", kind(v))
			return
		}
		if props, ok := schema["properties"].(node); ok {
			w.object(path, props, stringList(schema["required"]), v.ObjectValue())
			return
		}
		// A map's keys, or an object with neither properties nor additionalProperties,
		// are free-form.
		w.free = append(w.free, path)
		if ap, ok := schema["additionalProperties"].(node); ok {
			obj := v.ObjectValue()
			for _, k := range obj.StableKeys() {
				w.value(join(path, string(k)), ap, obj[k])
			}
		}
	default:
		w.addf(path, "schema type %q is not understood by this checker", t)
	}
}

// ref checks a value against a $ref: a provider type, or one of Pulumi's builtins.
func (w *walker) ref(path, ref string, v resource.PropertyValue) {
	switch ref {
	case "pulumi.json#/Any":
		w.free = append(w.free, path)
		return
	case "pulumi.json#/Asset":
		if !v.IsAsset() && !v.IsArchive() {
			w.addf(path, "schema wants an asset, got %s", kind(v))
		}
		return
	case "pulumi.json#/Archive":
		if !v.IsArchive() {
			w.addf(path, "schema wants an archive, got %s", kind(v))
		}
		return
	}
	const prefix = "#/types/"
	module, typ, ok := splitToken(strings.TrimPrefix(ref, prefix))
	if !strings.HasPrefix(ref, prefix) || !ok {
		w.addf(path, "schema $ref %q is not understood by this checker", ref)
		return
	}
	rel := filepath.Join(module, "types", typ+".yaml")
	t, err := w.c.load(rel)
	if err != nil {
		w.addf(path, "%v", err)
		return
	}
	if t == nil {
		w.addf(path, "schema $ref %q has no file %s", ref, filepath.ToSlash(rel))
		return
	}
	// A type file is itself a schema node: an object with properties, or an enum whose
	// type is string (or a number); its enum values are not checked.
	w.value(path, t, v)
}

// oneOf accepts a value that some alternative accepts; otherwise it reports the problems
// of the best alternative whose shape fits the value, or that none fits.
func (w *walker) oneOf(path string, alts []any, v resource.PropertyValue) {
	var best *walker
	var shapes []string
	for _, a := range alts {
		alt, _ := a.(node)
		sub := &walker{c: w.c}
		sub.value(path, alt, v)
		if len(sub.problems) == 0 {
			w.free = append(w.free, sub.free...)
			return
		}
		shape, fits := w.shape(alt, v)
		shapes = append(shapes, shape)
		if fits && (best == nil || len(sub.problems) < len(best.problems)) {
			best = sub
		}
	}
	if best != nil {
		w.problems = append(w.problems, best.problems...)
		w.free = append(w.free, best.free...)
		return
	}
	w.addf(path, "schema wants one of %s, got %s", strings.Join(shapes, " | "), kind(v))
}

// shape names an alternative's shape and tells whether v has that shape, so oneOf reports
// a typo inside an object rather than "not a string".
func (w *walker) shape(alt node, v resource.PropertyValue) (string, bool) {
	if ref, ok := alt["$ref"].(string); ok {
		if ref == "pulumi.json#/Any" {
			return "any", true
		}
		if module, typ, ok := splitToken(strings.TrimPrefix(ref, "#/types/")); ok {
			if t, _ := w.c.load(filepath.Join(module, "types", typ+".yaml")); t != nil {
				name, fits := w.shape(t, v)
				return typ + " (" + name + ")", fits
			}
		}
		return ref, false
	}
	t, _ := alt["type"].(string)
	switch t {
	case "string":
		return t, v.IsString()
	case "integer", "number":
		return t, v.IsNumber()
	case "boolean":
		return t, v.IsBool()
	case "array":
		return t, v.IsArray()
	case "object":
		return t, v.IsObject()
	}
	return t, true
}

func stringList(x any) []string {
	l, _ := x.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// closest is the property in props nearest to key, if one is near enough to be a typo.
func closest(key string, props node) string {
	best, bestD := "", math.MaxInt
	for p := range props {
		d := editDistance(strings.ToLower(key), strings.ToLower(p))
		if d < bestD || (d == bestD && p < best) {
			best, bestD = p, d
		}
	}
	if bestD > 3 || bestD > len(key)/2 {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
