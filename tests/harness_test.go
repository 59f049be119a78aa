package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/botpool/botpool/config"
	"github.com/botpool/botpool/mockcloud"
	"github.com/botpool/botpool/program"
)

// Plaintext stand-ins for the stack files' secure: placeholders, so the program validates
// and sends real values under mocks.
var testSecrets = map[string]string{
	"botpool:adminPassword": "Corr3ct-Horse-Battery!",
	"botpool:botEnv":        "MEETING_API_KEY=abc123\nLOG_LEVEL=info\n",
}

// stackConfig reads ../Pulumi.<stack>.yaml into namespaced config and secret keys.
func stackConfig(t testing.TB, stack string) (map[string]string, []string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "Pulumi."+stack+".yaml"))
	require.NoError(t, err)
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	cfg := map[string]string{}
	var secrets []string
	for k, v := range doc.Config {
		switch v := v.(type) {
		case map[string]any:
			require.Contains(t, v, "secure", "%s: only secure: objects are expected", k)
			s, ok := testSecrets[k]
			require.True(t, ok, "no test value for secret %s", k)
			cfg[k] = s
			secrets = append(secrets, k)
		default:
			cfg[k] = fmt.Sprint(v)
		}
	}
	return cfg, secrets
}

// run runs the program with the given config under mocks.
func run(t testing.TB, stack string, cfg map[string]string, secrets []string) (*mockcloud.Recorder, map[string]any, error) {
	t.Helper()
	var outs mockcloud.Outputs
	rec, err := mockcloud.Run(mockcloud.Stack{Project: "botpool", Name: stack, Config: cfg, SecretKeys: secrets},
		program.New(config.Options{}, outs.Observe))
	if err != nil {
		return rec, nil, err
	}
	return rec, outs.Values(), nil
}

// runStack runs a stack file's config and requires success.
func runStack(t testing.TB, stack string) (*mockcloud.Recorder, map[string]any) {
	t.Helper()
	cfg, secrets := stackConfig(t, stack)
	rec, outs, err := run(t, stack, cfg, secrets)
	require.NoError(t, err)
	return rec, outs
}
