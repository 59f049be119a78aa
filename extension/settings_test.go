package extension

import (
	"encoding/base64"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botpool/botpool/addressplan"
	"github.com/botpool/botpool/config"
)

var files = Files{
	ScriptName: "bothost-aaa.ps1", ScriptURL: "https://s.blob.core.windows.net/bothost/bothost-aaa.ps1",
	TemplateName: "desired-bbb.json", TemplateURL: "https://s.blob.core.windows.net/bothost/desired-bbb.json",
	AgentName: "botagent-ccc.exe", AgentURL: "https://s.blob.core.windows.net/bothost/botagent-ccc.exe",
}

func TestContentNameChangesWithContent(t *testing.T) {
	a := ContentName("bothost.ps1", []byte("one"))
	assert.Regexp(t, `^bothost-[0-9a-f]{12}\.ps1$`, a)
	assert.Equal(t, a, ContentName("bothost.ps1", []byte("one")))
	assert.NotEqual(t, a, ContentName("bothost.ps1", []byte("two")))
}

func TestPublicSettingsCarryImageNotSecrets(t *testing.T) {
	s := PublicSettings(files, "reg.azurecr.io/bot:v2")
	assert.Equal(t, []string{files.ScriptURL, files.TemplateURL, files.AgentURL}, s["fileUris"])
	assert.Equal(t, "reg.azurecr.io/bot:v2", s["botpool"].(map[string]any)["image"])
	assert.NotContains(t, s, "commandToExecute", "the command carries the env file: protected only")
}

func TestCommandToExecute(t *testing.T) {
	cmd := CommandToExecute(files, "reg.azurecr.io/bot:v2", "reg.azurecr.io", "A=1\nB=two words\n")
	assert.True(t, strings.HasPrefix(cmd, "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File bothost-aaa.ps1 "))
	for _, want := range []string{"-Template desired-bbb.json", "-Agent botagent-ccc.exe", "-Image reg.azurecr.io/bot:v2",
		"-Registry reg.azurecr.io", "-ApplyTimeout 20m", "-EnvFileBase64 " + base64.StdEncoding.EncodeToString([]byte("A=1\nB=two words\n"))} {
		assert.Contains(t, cmd, want)
	}
	assert.NotContains(t, CommandToExecute(files, "i:t", "r", ""), "-EnvFileBase64", "an empty argument would break the command line")
	// The largest env file config accepts still fits Windows' command line.
	big := CommandToExecute(files, "reg.azurecr.io/"+strings.Repeat("b", 200)+":"+strings.Repeat("t", 128), "reg.azurecr.io", strings.Repeat("x", config.MaxEnvFileBytes))
	assert.Less(t, len(big), 8191)
}

func TestTemplateIsWhatTheAgentAccepts(t *testing.T) {
	plan, err := addressplan.Build(addressplan.Layout{Subnet: netip.MustParsePrefix("10.50.1.0/28"), BasePort: 8011, SlotsPerVM: 4, ContainerPort: 443}, RunArgs())
	require.NoError(t, err)
	h := config.HealthConfig{Port: 8000, Path: "/healthz", DrainPath: "/drain", DrainTimeoutSecond: 30}
	b, err := Template(plan, h, "reg.azurecr.io/bot:v1", true)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"envFile":"C:\\ProgramData\\botpool\\bot.env"`)
	assert.Contains(t, string(b), `"drain":{"path":"/drain","timeoutSeconds":30}`)
	assert.NotContains(t, string(b), "reg.azurecr.io/bot", "the image is not in the template")

	h.Port = 8011 // a bot's port
	_, err = Template(plan, h, "reg.azurecr.io/bot:v1", false)
	assert.ErrorContains(t, err, "health.port")
}

func TestDefaultStorageAccountName(t *testing.T) {
	n := DefaultStorageAccountName("botpool-prod", "sub", "rg")
	assert.Regexp(t, `^[a-z0-9]{24}$`, n)
	assert.True(t, strings.HasPrefix(n, "botpoolprod"))
	assert.NotEqual(t, n, DefaultStorageAccountName("botpool-prod", "other-sub", "rg"))
}
