package tests

// Runs .github/scripts/wait-rollout.sh, the deploy step that waits for Azure's rolling upgrade,
// against fake pulumi and az commands that replay a sequence of `rolling-upgrade get-latest`
// answers, one per poll.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rolloutAnswer is one poll: az's tsv line (or its error text when fail is set).
type rolloutAnswer struct {
	out  string
	fail bool
}

func tsv(code, start string, ok, failed, inflight, pending int, msg string) rolloutAnswer {
	return rolloutAnswer{out: strings.Join([]string{code, start,
		strconv.Itoa(ok), strconv.Itoa(failed), strconv.Itoa(inflight), strconv.Itoa(pending), msg}, "\t")}
}

// runWaitRollout runs the script with answers and returns its exit code, output and step summary.
func runWaitRollout(t *testing.T, since time.Time, env map[string]string, answers ...rolloutAnswer) (int, string, string) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.MkdirAll(bin, 0o755))
	for i, a := range answers {
		name := filepath.Join(dir, "answer"+strconv.Itoa(i))
		require.NoError(t, os.WriteFile(name, []byte(a.out+"\n"), 0o644))
		if a.fail {
			require.NoError(t, os.WriteFile(name+".fail", nil, 0o644))
		}
	}
	// pulumi prints the stack outputs the script asks for; az replays the answers in order,
	// repeating the last one, logs its arguments, and warns on stderr even when it succeeds.
	pulumi := `#!/usr/bin/env bash
case "$*" in
  "stack output resourceGroupName --stack dev") echo rg-botpool-dev ;;
  "stack output scaleSetName --stack dev") echo botpool-dev-vmss ;;
  *) echo "unexpected pulumi $*" >&2; exit 3 ;;
esac
`
	az := `#!/usr/bin/env bash
dir="` + dir + `"
echo "$*" >> "$dir/az.log"
n=$(cat "$dir/count" 2>/dev/null || echo 0)
[ -f "$dir/answer$n" ] || n=$((n-1))
echo $((n+1)) > "$dir/count"
if [ -f "$dir/answer$n.fail" ]; then cat "$dir/answer$n" >&2; exit 1; fi
echo "WARNING: az writes notices like this to stderr" >&2
cat "$dir/answer$n"
`
	require.NoError(t, os.WriteFile(filepath.Join(bin, "pulumi"), []byte(pulumi), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bin, "az"), []byte(az), 0o755))

	summary := filepath.Join(dir, "summary.md")
	cmd := exec.Command("bash", filepath.Join(wfRepoRoot, ".github", "scripts", "wait-rollout.sh"),
		"dev", strconv.FormatInt(since.Unix(), 10))
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"GITHUB_STEP_SUMMARY="+summary, "ROLLOUT_POLL_SECONDS=0", "ROLLOUT_START_GRACE_SECONDS=0",
		"ROLLOUT_TIMEOUT_SECONDS=2")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	sum, _ := os.ReadFile(summary)
	log, _ := os.ReadFile(filepath.Join(dir, "az.log"))
	if len(answers) > 0 {
		assert.Contains(t, string(log), "vmss rolling-upgrade get-latest --resource-group rg-botpool-dev --name botpool-dev-vmss")
	}
	return code, string(out), string(sum)
}

func TestWaitRollout(t *testing.T) {
	deploy := time.Date(2026, 11, 29, 4, 0, 0, 0, time.UTC)
	after := "2026-11-29T04:01:02.1234567+00:00"
	before := "2026-11-20T09:00:00+00:00"
	// The timeout and grace are zero or tiny here, so a wait loop ends after a poll or two.
	waitLong := map[string]string{"ROLLOUT_START_GRACE_SECONDS": "3600"}

	cases := []struct {
		name    string
		env     map[string]string
		answers []rolloutAnswer
		code    int
		out     []string
		summary string
	}{
		{
			name: "completes after rolling forward",
			env:  waitLong,
			answers: []rolloutAnswer{
				tsv("RollingForward", after, 4, 0, 4, 12, "None"),
				tsv("Completed", after, 20, 0, 0, 0, "None"),
			},
			out:     []string{"Rolling upgrade RollingForward: 4 upgraded, 0 failed, 4 in progress, 12 pending.", "Rolling upgrade completed: 20 upgraded"},
			summary: "Rolling upgrade: completed",
		},
		{
			name: "a faulted upgrade fails the deploy with Azure's message",
			env:  waitLong,
			answers: []rolloutAnswer{
				tsv("Faulted", after, 0, 4, 0, 16, "Upgraded instances exceeded the unhealthy threshold"),
			},
			code:    1,
			out:     []string{"::error title=Rolling upgrade Faulted::", "0 upgraded, 4 failed", "exceeded the unhealthy threshold", "still run the previous tag"},
			summary: "Rolling upgrade: Faulted",
		},
		{
			name:    "a cancelled upgrade fails the deploy",
			env:     waitLong,
			answers: []rolloutAnswer{tsv("Cancelled", after, 4, 0, 0, 16, "")},
			code:    1,
			out:     []string{"::error title=Rolling upgrade Cancelled::", "Azure gave no message."},
		},
		{
			name:    "an earlier upgrade is not this deploy's: nothing to roll out",
			answers: []rolloutAnswer{tsv("Faulted", before, 0, 4, 0, 0, "old failure")},
			out:     []string{"::notice title=Nothing to roll out::"},
			summary: "nothing to roll out",
		},
		{
			name:    "a scale set that never had an upgrade: nothing to roll out",
			answers: []rolloutAnswer{{out: "ERROR: (NotFound) The entity was not found.", fail: true}},
			out:     []string{"::notice title=Nothing to roll out::"},
		},
		{
			name: "an upgrade that never finishes times out",
			env:  map[string]string{"ROLLOUT_START_GRACE_SECONDS": "3600", "ROLLOUT_POLL_SECONDS": "1"},
			answers: []rolloutAnswer{
				tsv("RollingForward", after, 4, 0, 4, 12, "None"),
			},
			code:    1,
			out:     []string{"::error title=Rolling upgrade timed out::", "az vmss rolling-upgrade get-latest --resource-group rg-botpool-dev --name botpool-dev-vmss"},
			summary: "Rolling upgrade: timed out",
		},
		{
			name:    "a persistent az error is reported, not mistaken for nothing to roll out",
			env:     map[string]string{"ROLLOUT_POLL_SECONDS": "1"},
			answers: []rolloutAnswer{{out: "ERROR: AADSTS700024: Client assertion is not within its valid time range.", fail: true}},
			code:    1,
			out:     []string{"::error title=Rolling upgrade timed out::", "Last az error: ERROR: AADSTS700024"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, sum := runWaitRollout(t, deploy, c.env, c.answers...)
			assert.Equal(t, c.code, code, out)
			for _, want := range c.out {
				assert.Contains(t, out, want)
			}
			if c.summary != "" {
				assert.Contains(t, sum, c.summary)
			}
		})
	}
}

func TestWaitRolloutUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"dev"}, {"dev", "yesterday"}} {
		cmd := exec.Command("bash", append([]string{filepath.Join(wfRepoRoot, ".github", "scripts", "wait-rollout.sh")}, args...)...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, "args %q", args)
		assert.Equal(t, 2, ee.ExitCode())
		assert.Contains(t, string(out), "usage:")
	}
}

// The deploy job runs the wait after pulumi up, with the start time pulumi up's step recorded,
// and before the summary.
func TestWorkflowDeployWaitsForRollout(t *testing.T) {
	w := wfLoad(t, "deploy.yml")
	up := wfFindOne(t, w, wfPulumiUpRe)
	wait := wfFindOne(t, w, wfCmdRe(`\.github/scripts/wait-rollout\.sh\b`))
	require.Same(t, up.Job, wait.Job)
	assert.Greater(t, wait.Step, up.Step)
	upRun := up.Job.Steps[up.Step].Run
	assert.Less(t, strings.Index(upRun, "DEPLOY_STARTED="), wfPulumiUpRe.FindStringIndex(upRun)[0],
		"the start time is recorded before pulumi up")
	assert.Contains(t, wait.Job.Steps[wait.Step].Run, `"$ENVIRONMENT" "$DEPLOY_STARTED"`)
	assert.Empty(t, wfStr(wait.Job.Steps[wait.Step].If), "the wait runs only when pulumi up succeeded")
}
