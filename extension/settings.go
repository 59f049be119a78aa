package extension

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path"
	"strings"
)

// GPUDeviceClass is the Windows device interface class that gives a process-isolated
// container DirectX/GPU access.
const GPUDeviceClass = "class/5B45201D-F2F2-4F3B-85BB-30FF1F953599"

// RunArgs are the docker run flags every bot container gets; port, name, env file and
// image are added per container.
func RunArgs() []string {
	return []string{"--restart", "always", "--isolation", "process", "--device", GPUDeviceClass}
}

// ContentName names a blob after its content, so a changed file gets a new URL and the
// extension's settings change with it (which is what makes the extension run again).
func ContentName(base string, content []byte) string {
	sum := sha256.Sum256(content)
	ext := path.Ext(base)
	return fmt.Sprintf("%s-%s%s", strings.TrimSuffix(base, ext), hex.EncodeToString(sum[:])[:12], ext)
}

// Files are the blobs the extension downloads, by name and URL.
type Files struct {
	ScriptName, ScriptURL     string
	TemplateName, TemplateURL string // desired-state template: plan, health, drain; no image
	AgentName, AgentURL       string
}

// ApplyTimeout bounds how long one VM may take to converge before its extension fails;
// well inside the Custom Script Extension's 90-minute limit.
const ApplyTimeout = "20m"

// PublicSettings are visible in the portal and in `pulumi preview`: the files to download
// and the bot image with its tag, the one value a deploy changes.
func PublicSettings(f Files, image string) map[string]any {
	return map[string]any{
		"fileUris": []string{f.ScriptURL, f.TemplateURL, f.AgentURL},
		"botpool": map[string]any{
			"image":    image,
			"template": f.TemplateName,
			"agent":    f.AgentName,
		},
	}
}

// CommandToExecute is the protected command line: it carries the env file, so it is only
// ever placed in protectedSettings.
func CommandToExecute(f Files, image, registry, envFile string) string {
	parts := []string{
		"powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass",
		"-File", f.ScriptName,
		"-Template", f.TemplateName,
		"-Agent", f.AgentName,
		"-Image", image,
		"-Registry", registry,
		"-ApplyTimeout", ApplyTimeout,
	}
	if envFile != "" {
		// An empty argument would not survive the command line; the script defaults to none.
		parts = append(parts, "-EnvFileBase64", base64.StdEncoding.EncodeToString([]byte(envFile)))
	}
	return strings.Join(parts, " ")
}
