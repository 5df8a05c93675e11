#!/usr/bin/env bash
# One deploy from CI with the single `bluegreen` executable: the GitHub Action (action.yml)
# and the GitLab component (templates/deploy/template.yml) both run this.
#   in:  BG (the executable), SERVICE, VERSION, WAIT_UNTIL (finished|switched|requested), TIMEOUT,
#        REASON, DEPLOYMENT_ID (default gh-/gl- from the CI's ids), NATS_URL, NATS_USER,
#        NATS_PASSWORD, NATS_CA_PEM (the CA's PEM, empty without TLS)
#   out: deployment-id and outcome (GITHUB_OUTPUT, or bluegreen.env for GitLab's dotenv report),
#        the timeline in GITHUB_STEP_SUMMARY (or bluegreen-timeline.md); exits as the CLI did.
set -uo pipefail
BG="${BG:-bluegreen}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

id="${DEPLOYMENT_ID:-}"
if [ -z "$id" ]; then
  if [ -n "${GITHUB_RUN_ID:-}" ]; then id="gh-$GITHUB_RUN_ID-${GITHUB_RUN_ATTEMPT:-1}"
  elif [ -n "${CI_JOB_ID:-}" ]; then id="gl-$CI_JOB_ID"
  else id="ci-$(date +%Y%m%d%H%M%S)-$$"; fi
fi

args=(deploy "$SERVICE" "$VERSION" --id "$id")
case "${WAIT_UNTIL:-finished}" in
  finished) args+=(--wait --timeout "${TIMEOUT:-45m}") ;;
  switched) args+=(--wait --until switched --timeout "${TIMEOUT:-45m}") ;;
esac
[ -n "${REASON:-}" ] && args+=(--reason "$REASON")
if [ -n "${NATS_CA_PEM:-}" ]; then
  printf '%s\n' "$NATS_CA_PEM" >"$tmp/nats-ca.crt"
  args+=(--tls-ca "$tmp/nats-ca.crt")
fi
for var in NATS_URL NATS_USER NATS_PASSWORD; do
  if [ -n "${!var:-}" ]; then export "${var?}"; else unset "$var"; fi
done

"$BG" "${args[@]}" | tee "$tmp/deploy.out"
code="${PIPESTATUS[0]}"

case "$code" in
  0) case "${WAIT_UNTIL:-finished}" in
       finished) outcome=succeeded ;;
       switched) outcome=switched ;;
       *) outcome=requested ;;
     esac ;;
  3) outcome=rejected ;;
  4) outcome=failed ;;
  5) outcome=rolled_back ;;
  6) outcome=timed_out ;;
  7) outcome=aborted ;;
  *) outcome=error ;;
esac

summary="${GITHUB_STEP_SUMMARY:-bluegreen-timeline.md}"
{
  echo "### bluegreen deploy $SERVICE $VERSION: $outcome"
  echo
  echo "deployment \`$id\`, exit $code"
  echo
  echo '```'
  "$BG" tail --service "$SERVICE" --deployment "$id" ${NATS_CA_PEM:+--tls-ca "$tmp/nats-ca.crt"} 2>&1 || true
  echo '```'
} >>"$summary"

if [ -n "${GITHUB_OUTPUT:-}" ]; then
  { echo "deployment-id=$id"; echo "outcome=$outcome"; } >>"$GITHUB_OUTPUT"
else
  { echo "BLUEGREEN_DEPLOYMENT_ID=$id"; echo "BLUEGREEN_OUTCOME=$outcome"; } >bluegreen.env
fi
exit "$code"
