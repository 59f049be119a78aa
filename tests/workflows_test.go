package tests

// Checks the GitHub Actions workflows in .github/workflows against what the deploy pipeline
// promises (docs/deploy.md): dispatch inputs, tag check before pulumi up, one deploy per
// environment at a time, environment binding, least-privilege permissions, imageTag handed to the
// stack config, previews for every stack file, pinned actions. actionlint (run by .ci/run) checks
// the syntax; these tests check the meaning.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// wfRepoRoot is the repository root as seen from this package's directory.
const wfRepoRoot = ".."

// wfDockerTagPattern is Docker's tag grammar, the same expression config checks botpool:imageTag with.
const wfDockerTagPattern = `^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`

type wfWorkflow struct {
	Path        string
	Raw         string
	Name        string            `yaml:"name"`
	On          map[string]any    `yaml:"on"`
	Permissions any               `yaml:"permissions"`
	Concurrency any               `yaml:"concurrency"`
	Env         map[string]string `yaml:"env"`
	Jobs        map[string]*wfJob `yaml:"jobs"`
}

type wfJob struct {
	ID          string
	Name        string            `yaml:"name"`
	Needs       any               `yaml:"needs"`
	If          any               `yaml:"if"`
	Environment any               `yaml:"environment"`
	Concurrency any               `yaml:"concurrency"`
	Permissions any               `yaml:"permissions"`
	Strategy    map[string]any    `yaml:"strategy"`
	Env         map[string]string `yaml:"env"`
	Steps       []wfStep          `yaml:"steps"`
}

type wfStep struct {
	ID   string            `yaml:"id"`
	Name string            `yaml:"name"`
	If   any               `yaml:"if"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	Env  map[string]string `yaml:"env"`
	With map[string]any    `yaml:"with"`
}

func wfLoad(t *testing.T, name string) *wfWorkflow {
	t.Helper()
	path := filepath.Join(wfRepoRoot, ".github", "workflows", name)
	raw, err := os.ReadFile(path)
	require.NoError(t, err, "read %s", path)
	w := &wfWorkflow{Path: path, Raw: string(raw)}
	require.NoError(t, yaml.Unmarshal(raw, w), "parse %s", path)
	require.NotEmpty(t, w.Jobs, "%s has no jobs", path)
	for id, j := range w.Jobs {
		require.NotNil(t, j, "%s: job %s is empty", path, id)
		j.ID = id
	}
	return w
}

func wfAll(t *testing.T) []*wfWorkflow {
	t.Helper()
	var out []*wfWorkflow
	for _, n := range []string{"deploy.yml", "preview.yml", "ci.yml"} {
		out = append(out, wfLoad(t, n))
	}
	return out
}

// wfStacks lists the stacks by their Pulumi.<stack>.yaml files in the repository root.
func wfStacks(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(wfRepoRoot, "Pulumi.*.yaml"))
	require.NoError(t, err)
	var stacks []string
	for _, f := range files {
		stacks = append(stacks, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml"))
	}
	sort.Strings(stacks)
	require.NotEmpty(t, stacks, "no Pulumi.<stack>.yaml stack files in the repository root")
	return stacks
}

func wfStr(v any) string {
	if v == nil {
		return ""
	}
	return strings.TrimSpace(fmt.Sprint(v))
}

// wfExpr normalises a GitHub expression for comparison: "${{ inputs.x }}" -> "inputs.x".
func wfExpr(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "${{") && strings.HasSuffix(s, "}}") {
		s = strings.TrimSpace(s[3 : len(s)-2])
	}
	return s
}

func wfStrings(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, wfStr(e))
		}
		return out
	}
	return []string{wfStr(v)}
}

func wfSorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// wfPerms returns a job's (or workflow's) permissions as a map; "read-all"/"write-all" and
// missing permissions come back as a single pseudo entry so that equality checks fail clearly.
func wfPerms(v any) map[string]string {
	switch x := v.(type) {
	case nil:
		return map[string]string{"<unset>": "<default token permissions>"}
	case string:
		return map[string]string{"<all>": x}
	case map[string]any:
		out := map[string]string{}
		for k, v := range x {
			out[k] = wfStr(v)
		}
		return out
	}
	return map[string]string{"<invalid>": wfStr(v)}
}

// wfEnv resolves an environment variable for a step: step env, then job env, then workflow env.
func wfEnv(w *wfWorkflow, j *wfJob, s *wfStep, name string) (string, bool) {
	if s != nil {
		if v, ok := s.Env[name]; ok {
			return v, true
		}
	}
	if v, ok := j.Env[name]; ok {
		return v, true
	}
	v, ok := w.Env[name]
	return v, ok
}

// wfFind returns the job and step index of every step whose run script matches re.
type wfHit struct {
	Job  *wfJob
	Step int
}

func wfFind(w *wfWorkflow, re *regexp.Regexp) []wfHit {
	var hits []wfHit
	for _, id := range wfJobIDs(w) {
		j := w.Jobs[id]
		for i := range j.Steps {
			if re.MatchString(j.Steps[i].Run) {
				hits = append(hits, wfHit{j, i})
			}
		}
	}
	return hits
}

func wfFindOne(t *testing.T, w *wfWorkflow, re *regexp.Regexp) wfHit {
	t.Helper()
	hits := wfFind(w, re)
	require.Len(t, hits, 1, "%s: want exactly one step whose script matches %s", w.Path, re)
	return hits[0]
}

func wfJobIDs(w *wfWorkflow) []string {
	var ids []string
	for id := range w.Jobs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// wfNeedsAll is the set of jobs a job waits for, transitively.
func wfNeedsAll(w *wfWorkflow, j *wfJob) map[string]bool {
	seen := map[string]bool{}
	var walk func(*wfJob)
	walk = func(j *wfJob) {
		for _, n := range wfStrings(j.Needs) {
			if !seen[n] {
				seen[n] = true
				if d, ok := w.Jobs[n]; ok {
					walk(d)
				}
			}
		}
	}
	walk(j)
	return seen
}

// wfReachesAzure: the job talks to Azure or the state backend (Azure login, or any pulumi command).
func wfReachesAzure(j *wfJob) bool {
	pulumiCmd := wfCmdRe(`pulumi\s+(up|preview|stack|config|refresh|destroy|login|import)\b`)
	for _, s := range j.Steps {
		if strings.HasPrefix(s.Uses, "azure/login@") || pulumiCmd.MatchString(s.Run) {
			return true
		}
	}
	return j.Env["ARM_USE_OIDC"] != ""
}

// wfCmdRe matches cmd where a shell command starts: at the start of a line, or after $(, ;, &&,
// || or | or {. Text in echo lines (headings, notes) does not match.
func wfCmdRe(cmd string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)(^\s*|\$\(\s*|[;&|{]\s*)` + cmd)
}

// wfCommand returns the first command in run that re matches, from the match to the end of the
// line, with backslash-continued lines joined.
func wfCommand(run string, re *regexp.Regexp) string {
	loc := re.FindStringIndex(run)
	if loc == nil {
		return ""
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(run[loc[0]:], "\n") {
		line = strings.TrimRight(line, "\n")
		if strings.HasSuffix(line, "\\") {
			b.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		b.WriteString(line)
		break
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

var (
	wfTagCheckRe     = regexp.MustCompile(regexp.QuoteMeta(wfDockerTagPattern))
	wfPulumiUpRe     = wfCmdRe(`pulumi\s+up\b`)
	wfPulumiPrevRe   = wfCmdRe(`pulumi\s+preview\b`)
	wfConfigSetTagRe = regexp.MustCompile(`pulumi\s+config\s+set\s+--stack\s+"\$\{?(\w+)\}?"\s+botpool:imageTag\s+"\$\{?(\w+)\}?"`)
	wfOfflinePlanRe  = regexp.MustCompile(`go\s+run\s+\./cmd/plan\s+--stack\s+"\$\{?(\w+)\}?"`)
)

func TestWorkflowStackFilesDiscovered(t *testing.T) {
	stacks := wfStacks(t)
	for _, s := range stacks {
		assert.Regexp(t, `^[a-z0-9][a-z0-9-]*$`, s, "stack name %q must also be a valid GitHub Environment and concurrency key", s)
	}
}

func TestWorkflowDeployDispatchInputs(t *testing.T) {
	w := wfLoad(t, "deploy.yml")
	stacks := wfStacks(t)

	require.Len(t, w.On, 1, "deploy.yml runs only by workflow_dispatch, got triggers %v", w.On)
	wd, ok := w.On["workflow_dispatch"].(map[string]any)
	require.True(t, ok, "deploy.yml must be triggered by workflow_dispatch with inputs")
	inputs, ok := wd["inputs"].(map[string]any)
	require.True(t, ok, "workflow_dispatch has no inputs")
	assert.ElementsMatch(t, []string{"environment", "imageTag"}, wfKeys(inputs), "dispatch inputs")

	env, ok := inputs["environment"].(map[string]any)
	require.True(t, ok, "input environment")
	assert.Equal(t, "choice", wfStr(env["type"]), "environment input type")
	assert.Equal(t, true, env["required"], "environment input required")
	assert.Equal(t, stacks, wfSorted(wfStrings(env["options"])),
		"environment choices must be exactly the stacks with a Pulumi.<stack>.yaml file")
	if d := wfStr(env["default"]); d != "" {
		assert.Contains(t, stacks, d, "environment default")
	}

	tag, ok := inputs["imageTag"].(map[string]any)
	require.True(t, ok, "input imageTag")
	assert.Equal(t, "string", wfStr(tag["type"]), "imageTag input type")
	assert.Equal(t, true, tag["required"], "imageTag input required")
}

func wfKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestWorkflowDeployTagCheckRunsBeforePulumiUp(t *testing.T) {
	w := wfLoad(t, "deploy.yml")
	check := wfFindOne(t, w, wfTagCheckRe)
	up := wfFindOne(t, w, wfPulumiUpRe)

	// Nothing runs before the check in its job.
	assert.Equal(t, 0, check.Step, "the tag check must be the first step of job %s", check.Job.ID)
	assert.Empty(t, wfStr(check.Job.Steps[check.Step].If), "the tag check must not be conditional")
	if check.Job != up.Job {
		assert.True(t, wfNeedsAll(w, up.Job)[check.Job.ID],
			"job %s (pulumi up) must need job %s (tag check)", up.Job.ID, check.Job.ID)
		assert.Empty(t, wfStrings(check.Job.Needs), "the tag check job must not wait for other jobs")
		assert.Empty(t, wfStr(check.Job.If), "the tag check job must not be conditional")
		// A job with always()/failure() would run pulumi up even after the check failed.
		assert.NotRegexp(t, `always\(\)|failure\(\)|cancelled\(\)`, wfStr(up.Job.If), "pulumi up job condition")
	} else {
		assert.Less(t, check.Step, up.Step, "the tag check must come before pulumi up")
	}

	// The check reads the input through the environment (never ${{ }} in the script).
	s := &check.Job.Steps[check.Step]
	v, ok := wfEnv(w, check.Job, s, "IMAGE_TAG")
	require.True(t, ok, "tag check step has no IMAGE_TAG env")
	assert.Equal(t, "inputs.imageTag", wfExpr(v))
	assert.Contains(t, s.Run, "$IMAGE_TAG")
}

// Runs the deploy workflow's tag check script with bash against valid and invalid tags.
func TestWorkflowDeployTagCheckScript(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	w := wfLoad(t, "deploy.yml")
	check := wfFindOne(t, w, wfTagCheckRe)
	step := check.Job.Steps[check.Step]
	require.NotContains(t, step.Run, "${{", "tag check script must not interpolate expressions")
	goRe := regexp.MustCompile(wfDockerTagPattern)

	cases := map[string]bool{
		"v1.0-175":               true,
		"latest":                 true,
		"1":                      true,
		"_build":                 true,
		"v1.0_rc.1":              true,
		"A.b-C_d":                true,
		strings.Repeat("a", 128): true,
		"":                       false,
		"-v1":                    false,
		".v1":                    false,
		"v1:2":                   false,
		"v1/2":                   false,
		"v 1":                    false,
		"v1\n::warning::x":       false,
		"v1;id":                  false,
		"$(id)":                  false,
		"é1":                     false,
		strings.Repeat("a", 129): false,
	}
	for tag, valid := range cases {
		require.Equal(t, valid, goRe.MatchString(tag), "test table disagrees with Docker tag syntax for %q", tag)
		summary := filepath.Join(t.TempDir(), "summary.md")
		cmd := exec.Command(bash, "--noprofile", "--norc", "-eo", "pipefail", "-c", step.Run)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GITHUB_STEP_SUMMARY=" + summary}
		for k := range step.Env {
			v, _ := wfEnv(w, check.Job, &step, k)
			if !strings.Contains(v, "${{") {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
		}
		cmd.Env = append(cmd.Env, "IMAGE_TAG="+tag, "ENVIRONMENT=dev")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		if valid {
			assert.NoError(t, err, "tag %q should pass the check; output:\n%s", tag, out.String())
			continue
		}
		assert.Error(t, err, "tag %q should fail the check", tag)
		assert.Contains(t, out.String(), "::error", "tag %q: a failed check reports an error annotation", tag)
		assert.Contains(t, out.String(), "not a valid Docker tag", "tag %q: clear error", tag)
		// The raw value must not be able to start a workflow command on a line of its own.
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(line, "::") {
				assert.True(t, strings.HasPrefix(line, "::error title=Invalid imageTag::"), "tag %q injected a workflow command: %q", tag, line)
			}
		}
		sum, _ := os.ReadFile(summary)
		assert.Contains(t, string(sum), "Deploy refused", "tag %q: job summary explains the refusal", tag)
	}
}

func TestWorkflowDeployConcurrencyPerEnvironment(t *testing.T) {
	w := wfLoad(t, "deploy.yml")
	up := wfFindOne(t, w, wfPulumiUpRe)
	c := up.Job.Concurrency
	if c == nil {
		c = w.Concurrency
	}
	m, ok := c.(map[string]any)
	require.True(t, ok, "the pulumi up job (or the workflow) needs a concurrency block with group and cancel-in-progress, got %v", c)
	group := wfStr(m["group"])
	assert.Regexp(t, `\$\{\{\s*(github\.event\.)?inputs\.environment\s*\}\}`, group, "concurrency group must key on the environment")
	assert.NotRegexp(t, `run_id|run_number|github\.sha|inputs\.imageTag`, group, "concurrency group must not be unique per run")
	cip, present := m["cancel-in-progress"]
	require.True(t, present, "cancel-in-progress must be set explicitly")
	assert.Equal(t, false, cip, "a deploy in progress must never be cancelled")
}

func TestWorkflowDeployEnvironmentBinding(t *testing.T) {
	w := wfLoad(t, "deploy.yml")
	up := wfFindOne(t, w, wfPulumiUpRe)
	env := up.Job.Environment
	if m, ok := env.(map[string]any); ok {
		env = m["name"]
	}
	assert.Equal(t, "inputs.environment", wfExpr(wfStr(env)),
		"the pulumi up job must be bound to the GitHub Environment named like the stack")
	// The tag check must not sit behind the approval gate.
	check := wfFindOne(t, w, wfTagCheckRe)
	if check.Job != up.Job {
		assert.Nil(t, check.Job.Environment, "the tag check job must run before any approval")
	}
}

func TestWorkflowDeployPassesImageTagToStackConfig(t *testing.T) {
	w := wfLoad(t, "deploy.yml")
	up := wfFindOne(t, w, wfPulumiUpRe)
	set := wfFindOne(t, w, wfCmdRe(`pulumi\s+config\s+set\b.*botpool:imageTag`))
	require.Same(t, up.Job, set.Job, "config set and pulumi up must run in the same job (same working copy)")

	setStep := &set.Job.Steps[set.Step]
	upStep := &up.Job.Steps[up.Step]
	if set.Step == up.Step {
		assert.Less(t, wfConfigSetTagRe.FindStringIndex(setStep.Run)[0], wfPulumiUpRe.FindStringIndex(upStep.Run)[0],
			"config set must come before pulumi up")
	} else {
		assert.Less(t, set.Step, up.Step, "config set must come before pulumi up")
	}

	m := wfConfigSetTagRe.FindStringSubmatch(setStep.Run)
	require.NotNil(t, m, "want `pulumi config set --stack \"$ENV\" botpool:imageTag \"$TAG\"`, got:\n%s", setStep.Run)
	stackVar, tagVar := m[1], m[2]
	sv, ok := wfEnv(w, set.Job, setStep, stackVar)
	require.True(t, ok, "%s is not set in the env", stackVar)
	assert.Equal(t, "inputs.environment", wfExpr(sv))
	tv, ok := wfEnv(w, set.Job, setStep, tagVar)
	require.True(t, ok, "%s is not set in the env", tagVar)
	assert.Equal(t, "inputs.imageTag", wfExpr(tv))

	upCmd := wfCommand(upStep.Run, wfPulumiUpRe)
	assert.Regexp(t, `--stack "\$\{?`+stackVar+`\}?"`, upCmd, "pulumi up targets the dispatched stack")
	assert.Contains(t, upCmd, " --yes", "pulumi up runs non-interactively")
	uv, _ := wfEnv(w, up.Job, upStep, stackVar)
	assert.Equal(t, sv, uv, "config set and pulumi up use the same stack")
}

func TestWorkflowDeployAzureOIDC(t *testing.T) {
	for _, w := range wfAll(t) {
		assert.NotRegexp(t, `(?i)client[_-]secret|\bcreds:|AZURE_CREDENTIALS`, w.Raw, "%s: no long-lived Azure secrets", w.Path)
		for _, id := range wfJobIDs(w) {
			j := w.Jobs[id]
			if !wfReachesAzure(j) {
				continue
			}
			assert.Equal(t, "true", j.Env["ARM_USE_OIDC"], "%s job %s: ARM_USE_OIDC", w.Path, id)
			for _, k := range []string{"ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID"} {
				assert.Regexp(t, `^vars\.[A-Z_]+$`, wfExpr(j.Env[k]), "%s job %s: %s comes from a variable", w.Path, id, k)
			}
			for _, s := range j.Steps {
				if strings.HasPrefix(s.Uses, "azure/login@") {
					assert.Equal(t, j.Env["ARM_CLIENT_ID"], wfStr(s.With["client-id"]),
						"%s job %s: azure/login and the provider use the same identity", w.Path, id)
				}
			}
		}
	}
}

func TestWorkflowDeploySummary(t *testing.T) {
	w := wfLoad(t, "deploy.yml")
	up := wfFindOne(t, w, wfPulumiUpRe)
	hit := wfFindOne(t, w, wfCmdRe(`pulumi\s+stack\s+output\b`))
	require.Same(t, up.Job, hit.Job)
	assert.Greater(t, hit.Step, up.Step, "the summary comes after pulumi up")
	s := hit.Job.Steps[hit.Step]
	assert.Equal(t, "always()", wfExpr(wfStr(s.If)), "the summary is written even when the deploy fails")
	for _, want := range []string{"poolAddress", "GITHUB_STEP_SUMMARY", "ENVIRONMENT", "IMAGE_TAG"} {
		assert.Contains(t, s.Run, want, "job summary must show the stack, the tag and the pool address")
	}
}

// Least privilege: contents: read everywhere; id-token: write exactly where Azure is reached;
// pull-requests: write only in preview.yml.
func TestWorkflowPermissions(t *testing.T) {
	prWriters := 0
	for _, w := range wfAll(t) {
		assert.Equal(t, map[string]string{"contents": "read"}, wfPerms(w.Permissions), "%s: top-level permissions", w.Path)
		for _, id := range wfJobIDs(w) {
			j := w.Jobs[id]
			p := wfPerms(j.Permissions)
			where := fmt.Sprintf("%s job %s", w.Path, id)
			assert.Equal(t, "read", p["contents"], "%s: contents: read", where)
			azure := wfReachesAzure(j)
			if azure {
				assert.Equal(t, "write", p["id-token"], "%s reaches Azure: needs id-token: write", where)
			} else {
				assert.NotContains(t, p, "id-token", "%s does not reach Azure: no id-token", where)
			}
			if pr, ok := p["pull-requests"]; ok {
				assert.Equal(t, "preview.yml", filepath.Base(w.Path), "%s: pull-requests permission only in preview", where)
				assert.Equal(t, "write", pr, where)
				assert.False(t, azure, "%s: the job that writes to the PR must not also hold the Azure token", where)
				prWriters++
			}
			for k := range p {
				assert.Contains(t, []string{"contents", "id-token", "pull-requests"}, k, "%s: unexpected permission %s", where, k)
			}
		}
	}
	assert.Equal(t, 1, prWriters, "exactly one job (the preview comment) has pull-requests: write")

	// The deploy job itself reaches Azure.
	w := wfLoad(t, "deploy.yml")
	up := wfFindOne(t, w, wfPulumiUpRe)
	assert.Equal(t, "write", wfPerms(up.Job.Permissions)["id-token"])
}

func TestWorkflowPreviewRunsForEveryStack(t *testing.T) {
	w := wfLoad(t, "preview.yml")
	stacks := wfStacks(t)

	_, ok := w.On["pull_request"]
	assert.True(t, ok, "preview.yml runs on pull_request")
	assert.NotContains(t, w.On, "pull_request_target", "never run pull request code with secrets")

	for _, tc := range []struct {
		what string
		re   *regexp.Regexp
	}{
		{"pulumi preview", wfPulumiPrevRe},
		{"offline plan", wfOfflinePlanRe},
	} {
		hit := wfFindOne(t, w, tc.re)
		matrix, _ := hit.Job.Strategy["matrix"].(map[string]any)
		require.NotNil(t, matrix, "%s job %s has no matrix", tc.what, hit.Job.ID)
		assert.Equal(t, stacks, wfSorted(wfStrings(matrix["stack"])),
			"%s must run for every Pulumi.<stack>.yaml", tc.what)
		if ff, ok := hit.Job.Strategy["fail-fast"]; ok {
			assert.Equal(t, false, ff, "%s: one stack's failure must not hide another's result", tc.what)
		}
		// The stack argument comes from the matrix.
		step := &hit.Job.Steps[hit.Step]
		arg := regexp.MustCompile(`--stack\s+"\$\{?(\w+)\}?"`).FindStringSubmatch(step.Run)
		require.NotNil(t, arg, "%s: want --stack \"$VAR\"", tc.what)
		v, _ := wfEnv(w, hit.Job, step, arg[1])
		assert.Equal(t, "matrix.stack", wfExpr(v), "%s: --stack comes from the matrix", tc.what)
		assert.Contains(t, step.Run, "GITHUB_STEP_SUMMARY", "%s output goes to the job summary", tc.what)
	}
	prev := wfFindOne(t, w, wfPulumiPrevRe)
	assert.Contains(t, wfCommand(prev.Job.Steps[prev.Step].Run, wfPulumiPrevRe), " --diff", "pulumi preview --diff")
}

// A PR preview must not show a rollback of the image tag that deploys set outside git.
func TestWorkflowPreviewUsesDeployedImageTag(t *testing.T) {
	w := wfLoad(t, "preview.yml")
	prev := wfFindOne(t, w, wfPulumiPrevRe)
	out := wfFindOne(t, w, wfCmdRe(`pulumi\s+stack\s+output\s+imageTag\b`))
	require.Same(t, prev.Job, out.Job)
	assert.Less(t, out.Step, prev.Step, "read the deployed tag before pulumi preview")
	run := out.Job.Steps[out.Step].Run
	m := wfConfigSetTagRe.FindStringSubmatch(run)
	require.NotNil(t, m, "set botpool:imageTag from the stack output, got:\n%s", run)
	assert.Less(t, strings.Index(run, "pulumi stack output imageTag"), wfConfigSetTagRe.FindStringIndex(run)[0])
	assert.Contains(t, run, "$"+m[2], "the tag set comes from a shell variable")
}

// Forks get the offline plan (no secrets); pulumi preview and the comment only run where the
// repository's secrets and OIDC token are available.
func TestWorkflowPreviewForkSafe(t *testing.T) {
	w := wfLoad(t, "preview.yml")
	sameRepo := `github.event.pull_request.head.repo.full_name == github.repository`

	prev := wfFindOne(t, w, wfPulumiPrevRe)
	assert.Contains(t, wfStr(prev.Job.If), sameRepo, "pulumi preview is skipped for forks")

	plan := wfFindOne(t, w, wfOfflinePlanRe)
	assert.NotSame(t, prev.Job, plan.Job, "the offline plan must not depend on the preview job's access")
	assert.Empty(t, wfStr(plan.Job.If), "the offline plan runs for every pull request, forks included")
	assert.Empty(t, wfStrings(plan.Job.Needs))
	b, err := yaml.Marshal(plan.Job)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "secrets.", "the offline plan needs no secrets")
	assert.False(t, wfReachesAzure(plan.Job), "the offline plan must not reach Azure")

	note := false
	for _, s := range plan.Job.Steps {
		if strings.Contains(wfStr(s.If), "!= github.repository") && strings.Contains(s.Run, "GITHUB_STEP_SUMMARY") {
			note = true
		}
	}
	assert.True(t, note, "the plan job notes in its summary when pulumi preview was skipped")

	// One comment, updated in place, carrying both the offline plan and the preview.
	var comment *wfJob
	for _, j := range w.Jobs {
		if wfPerms(j.Permissions)["pull-requests"] == "write" {
			comment = j
		}
	}
	require.NotNil(t, comment, "a job posts the PR comment")
	assert.ElementsMatch(t, []string{plan.Job.ID, prev.Job.ID}, wfStrings(comment.Needs))
	assert.Contains(t, wfStr(comment.If), "always()", "the comment is posted even when a preview fails")
	assert.Contains(t, wfStr(comment.If), sameRepo, "a fork's token cannot comment")
	var script string
	for _, s := range comment.Steps {
		script += s.Run + "\n"
	}
	assert.Contains(t, script, "<!-- botpool-preview -->", "the comment carries a marker to find it again")
	assert.Contains(t, script, "PATCH", "the existing comment is updated, not duplicated")
	assert.Contains(t, script, "plan-", "the comment includes the offline plan")
	assert.Contains(t, script, "preview-", "the comment includes the preview")
}

func TestWorkflowCIRunsChecks(t *testing.T) {
	w := wfLoad(t, "ci.yml")
	assert.Contains(t, w.On, "pull_request")
	assert.Contains(t, w.On, "push")
	var script string
	for _, id := range wfJobIDs(w) {
		for _, s := range w.Jobs[id].Steps {
			script += s.Run + "\n"
		}
	}
	if strings.Contains(script, ".ci/run") {
		raw, err := os.ReadFile(filepath.Join(wfRepoRoot, ".ci", "run"))
		require.NoError(t, err)
		script += string(raw)
	}
	for _, want := range []string{"go build ./...", "go vet ./...", "go test ./..."} {
		assert.Contains(t, script, want, "CI runs %s", want)
	}
	// actionlint, pinned, installed with go install, and run.
	assert.Regexp(t, `go install "?github\.com/rhysd/actionlint/cmd/actionlint@(v\d+\.\d+\.\d+|\$\{?ACTIONLINT_VERSION\}?)"?`, script)
	if strings.Contains(script, "ACTIONLINT_VERSION") {
		assert.Regexp(t, `ACTIONLINT_VERSION=v\d+\.\d+\.\d+\b`, script, "actionlint version is pinned")
	}
	assert.Regexp(t, `(?m)^\s*actionlint\b`, script, "CI runs actionlint")
}

// Third-party actions are pinned to a full commit SHA with the version in a trailing comment,
// and each action is pinned to the same commit everywhere.
func TestWorkflowActionsPinned(t *testing.T) {
	usesRe := regexp.MustCompile(`^\s*(?:-\s+)?uses:\s*(\S+)\s*(#.*)?$`)
	pinRe := regexp.MustCompile(`^([\w.-]+/[\w.-]+(?:/[\w./-]+)?)@([0-9a-f]{40})$`)
	versionRe := regexp.MustCompile(`^#\s*v\d+(\.\d+){0,2}\b`)
	shaOf := map[string]string{}
	versionOf := map[string]string{}
	for _, w := range wfAll(t) {
		for i, line := range strings.Split(w.Raw, "\n") {
			m := usesRe.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			where := fmt.Sprintf("%s:%d", w.Path, i+1)
			ref := m[1]
			if strings.HasPrefix(ref, "./") {
				continue
			}
			p := pinRe.FindStringSubmatch(ref)
			if !assert.NotNil(t, p, "%s: %s is not pinned to a full commit SHA", where, ref) {
				continue
			}
			assert.Regexp(t, versionRe, m[2], "%s: %s needs a trailing '# vX.Y.Z' comment", where, ref)
			action, sha := p[1], p[2]
			if prev, ok := shaOf[action]; ok {
				assert.Equal(t, prev, sha, "%s: %s pinned to two different commits", where, action)
			}
			shaOf[action] = sha
			if prev, ok := versionOf[sha]; ok {
				assert.Equal(t, prev, strings.TrimSpace(m[2]), "%s: same commit, different version comments", where)
			}
			versionOf[sha] = strings.TrimSpace(m[2])
		}
	}
	assert.NotEmpty(t, shaOf)
}

// Inputs and PR data reach scripts only through env, never by ${{ }} interpolation (script injection).
func TestWorkflowNoExpressionsInScripts(t *testing.T) {
	for _, w := range wfAll(t) {
		for _, id := range wfJobIDs(w) {
			for i, s := range w.Jobs[id].Steps {
				assert.NotContains(t, s.Run, "${{", "%s job %s step %d (%s): pass values via env", w.Path, id, i, s.Name)
			}
		}
	}
}

// Every job that installs the Pulumi CLI installs the same exact version.
func TestWorkflowPulumiCLIPinned(t *testing.T) {
	versions := map[string]bool{}
	for _, w := range wfAll(t) {
		for _, id := range wfJobIDs(w) {
			j := w.Jobs[id]
			installs := false
			for _, s := range j.Steps {
				if strings.HasPrefix(s.Uses, "pulumi/actions@") {
					installs = true
					v := wfStr(s.With["pulumi-version"])
					assert.Regexp(t, `^\d+\.\d+\.\d+$`, v, "%s job %s: exact pulumi-version", w.Path, id)
					versions[v] = true
				}
			}
			if wfReachesAzure(j) {
				assert.True(t, installs, "%s job %s runs pulumi: it installs the pinned CLI", w.Path, id)
			}
		}
	}
	assert.Len(t, versions, 1, "one Pulumi CLI version across workflows, got %v", versions)
}
