package plan

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/botpool/botpool/mockcloud"
)

// SecretPlaceholder is the value every `secure:` key gets in a plan. The program runs with
// config.Options{OpaqueSecrets: true}, so only its presence is checked; it reaches the
// resources as a Pulumi secret and is rendered as "[secret]".
const SecretPlaceholder = "plan-placeholder-for-a-secure-value"

// ProjectFile is the Pulumi project file the stack files sit beside.
const ProjectFile = "Pulumi.yaml"

// FindProjectDir walks up from dir to the first directory holding Pulumi.yaml.
func FindProjectDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ProjectFile)); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no %s in %s or any directory above it", ProjectFile, abs)
		}
	}
}

// ProjectName reads the `name:` of the Pulumi.yaml in dir.
func ProjectName(dir string) (string, error) {
	path := filepath.Join(dir, ProjectFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var doc struct {
		Name string `yaml:"name"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if doc.Name == "" {
		return "", fmt.Errorf("%s: no project name", path)
	}
	return doc.Name, nil
}

// StackFile is the path of the stack file of stack in the project directory dir.
func StackFile(dir, stack string) string {
	return filepath.Join(dir, "Pulumi."+stack+".yaml")
}

// StackNameFromFile is the stack a file is named for: Pulumi.<stack>.yaml gives <stack>,
// any other file its base name without extension.
func StackNameFromFile(path string) string {
	base := filepath.Base(path)
	base = strings.TrimSuffix(strings.TrimSuffix(base, ".yaml"), ".yml")
	return strings.TrimPrefix(base, "Pulumi.")
}

// ParseStackConfig reads a stack config document (the shape of Pulumi.<stack>.yaml): each
// key of `config:` namespaced as Pulumi does (a bare key gets the project's namespace),
// scalars as their text, `secure:` values as SecretPlaceholder with the key marked secret.
func ParseStackConfig(project string, raw []byte) (config map[string]string, secretKeys []string, err error) {
	var doc struct {
		Config map[string]yaml.Node `yaml:"config"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, nil, err
	}
	config = make(map[string]string, len(doc.Config))
	var errs []error
	for k, node := range doc.Config {
		key := k
		if !strings.Contains(key, ":") {
			key = project + ":" + key
		}
		switch node.Kind {
		case yaml.ScalarNode:
			var v any
			if err := node.Decode(&v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", k, err))
				continue
			}
			if v == nil {
				config[key] = ""
			} else {
				config[key] = fmt.Sprint(v)
			}
		case yaml.MappingNode:
			var m map[string]any
			if err := node.Decode(&m); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", k, err))
				continue
			}
			if _, ok := m["secure"]; !ok || len(m) != 1 {
				errs = append(errs, fmt.Errorf("%s: only scalar values and `secure:` values are supported", k))
				continue
			}
			config[key] = SecretPlaceholder
			secretKeys = append(secretKeys, key)
		default:
			errs = append(errs, fmt.Errorf("%s: only scalar values and `secure:` values are supported", k))
		}
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
		return nil, nil, errors.Join(errs...)
	}
	sort.Strings(secretKeys)
	return config, secretKeys, nil
}

// ReadStackFile reads a stack config file into the stack to plan.
func ReadStackFile(project, stack, path string) (mockcloud.Stack, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return mockcloud.Stack{}, err
	}
	cfg, secrets, err := ParseStackConfig(project, raw)
	if err != nil {
		return mockcloud.Stack{}, fmt.Errorf("%s: %w", path, err)
	}
	return mockcloud.Stack{Project: project, Name: stack, Config: cfg, SecretKeys: secrets}, nil
}
