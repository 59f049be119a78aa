#!/usr/bin/env bash
# wait-rollout.sh STACK SINCE_EPOCH
#
# pulumi up only changes the scale set's model: with the Rolling upgrade policy Azure then rolls
# the new extension settings out batch by batch, after pulumi up has returned. This waits for the
# rolling upgrade that started at or after SINCE_EPOCH (seconds, UTC) on STACK's scale set and
# exits non-zero when Azure stops it (Faulted or Cancelled: a batch turned unhealthy, e.g. a
# bad tag) or when it does not finish in time, so the person who dispatched the deploy sees
# the failure in the run, not later on a dead bot.
#
# Needs: pulumi (logged in to the stack's backend) and az (logged in). No jq: az's --query does
# the JSON work. Tunables (seconds): ROLLOUT_TIMEOUT_SECONDS (default 5400),
# ROLLOUT_POLL_SECONDS (30), ROLLOUT_START_GRACE_SECONDS (600: how long to wait for Azure to
# start an upgrade before concluding the deploy changed nothing on the VMs).
set -euo pipefail

if [ $# -ne 2 ] || [[ ! "$2" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 STACK SINCE_EPOCH_SECONDS" >&2
  exit 2
fi
stack=$1
since=$2
timeout=${ROLLOUT_TIMEOUT_SECONDS:-5400}
interval=${ROLLOUT_POLL_SECONDS:-30}
grace=${ROLLOUT_START_GRACE_SECONDS:-600}
summary=${GITHUB_STEP_SUMMARY:-/dev/null}

rg=$(pulumi stack output resourceGroupName --stack "$stack")
vmss=$(pulumi stack output scaleSetName --stack "$stack")
echo "Waiting for the rolling upgrade of scale set ${vmss} (resource group ${rg})."

# az -o tsv prints null as an empty field in current releases and as "None" in older ones.
field() { if [ "$1" = "None" ]; then echo ""; else echo "$1"; fi; }

report() { # title, detail
  printf '\n#### Rolling upgrade: %s\n\n%s\n' "$1" "$2" >>"$summary"
}

# az writes warnings to stderr even when it succeeds: keep them out of the tsv it prints.
az_err=$(mktemp)
trap 'rm -f "$az_err"' EXIT

started_at=$SECONDS
last_error=""
while :; do
  fresh=""
  if out=$(az vmss rolling-upgrade get-latest --resource-group "$rg" --name "$vmss" \
    --query "[runningStatus.code, runningStatus.startTime, progress.successfulInstanceCount, progress.failedInstanceCount, progress.inProgressInstanceCount, progress.pendingInstanceCount, error.message]" \
    --output tsv 2>"$az_err"); then
    last_error=""
    IFS=$'\t' read -r code start ok failed inflight pending message <<<"$out"
    code=$(field "$code")
    start=$(field "$start")
    message=$(field "${message:-}")
    progress="$(field "$ok") upgraded, $(field "$failed") failed, $(field "$inflight") in progress, $(field "$pending") pending"
    if [ -n "$start" ] && [ "$(date -u -d "$start" +%s)" -ge "$since" ]; then
      fresh=yes
    fi
  elif grep -qiE 'notfound|not found|could not be found' "$az_err"; then
    # A scale set that has never had a rolling upgrade (e.g. just created) has none to show.
    last_error=""
  else
    # Not fatal on its own (throttling, a network blip); reported if it persists.
    last_error=$(cat "$az_err")
  fi

  if [ -n "$fresh" ]; then
    case "$code" in
      Completed)
        echo "Rolling upgrade completed: ${progress}."
        report "completed" "Every VM runs the new model (${progress})."
        exit 0
        ;;
      Faulted | Cancelled)
        detail="Azure stopped the rolling upgrade (${code}): ${progress}. ${message:-Azure gave no message.} VMs not yet upgraded still run the previous tag and keep serving. See docs/deploy.md, 'When a deploy fails'."
        echo "::error title=Rolling upgrade ${code}::${detail}"
        report "${code}" "$detail"
        exit 1
        ;;
      *) echo "Rolling upgrade ${code:-starting}: ${progress}." ;;
    esac
  elif [ -z "$last_error" ] && [ $((SECONDS - started_at)) -ge "$grace" ]; then
    msg="No rolling upgrade started within ${grace}s of the deploy: pulumi up changed nothing the VMs run (same tag, agent and template), or created the scale set (a new scale set runs the extension while pulumi up waits), so there was nothing to roll out."
    echo "::notice title=Nothing to roll out::${msg}"
    report "nothing to roll out" "$msg"
    exit 0
  fi

  if [ $((SECONDS - started_at)) -ge "$timeout" ]; then
    detail="The rolling upgrade did not finish within ${timeout}s.${last_error:+ Last az error: ${last_error}} It may still be running: check it with az vmss rolling-upgrade get-latest --resource-group ${rg} --name ${vmss}."
    echo "::error title=Rolling upgrade timed out::${detail}"
    report "timed out" "$detail"
    exit 1
  fi
  sleep "$interval"
done
