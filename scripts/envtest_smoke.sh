#!/usr/bin/env bash
# Smoke test for scripts/envtest.sh: start etcd + kube-apiserver from the
# envtest assets on loopback, install the HipaaPolicy CRD, create and read back
# a policy, prove the CRD's CEL rule rejects a bad exemption (HTTP 422), then
# stop everything and clean up. Needs curl and openssl. See docs/envtest.md.
#
#   bash scripts/envtest_smoke.sh          # PHIGUARD_SMOKE_KEEP=1 keeps the temp dir
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CRD="$ROOT/deploy/crds/hipaapolicies.phiguard.io.yaml"
POLICY="$ROOT/deploy/examples/policies/phi-workloads.yaml"
POLICY_NAME=phi-workloads

log() { printf 'smoke: %s\n' "$*" >&2; }
fail() {
  log "FAIL: $*"
  exit 1
}

for tool in curl openssl; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is needed"
done

ASSETS="$(bash "$ROOT/scripts/envtest.sh" | tail -n1)"
[[ -x "$ASSETS/kube-apiserver" && -x "$ASSETS/etcd" ]] || fail "no binaries in '$ASSETS'"
log "assets: $ASSETS"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/phiguard-envtest-smoke.XXXXXX")"
ETCD_PID=""
APISERVER_PID=""
STATUS=1

stop() { # stop PID: SIGTERM, then SIGKILL after 10 s
  local pid="$1" i
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  stop "$APISERVER_PID"
  stop "$ETCD_PID"
  if [[ $STATUS != 0 ]]; then
    local f
    for f in "$WORK/etcd.log" "$WORK/apiserver.log"; do
      [[ -f "$f" ]] || continue
      log "---- last lines of $(basename "$f") ----"
      tail -n 30 "$f" >&2 || true
    done
  fi
  if [[ "${PHIGUARD_SMOKE_KEEP:-0}" == 1 ]]; then
    log "kept $WORK"
  else
    rm -rf -- "$WORK"
  fi
}
trap cleanup EXIT

# free_port: a loopback TCP port nobody listens on (and not handed out before).
USED_PORTS=" "
free_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 40000))
    [[ "$USED_PORTS" == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      USED_PORTS+="$p "
      printf '%s' "$p"
      return 0
    fi
  done
  fail "no free port found"
}

# wait_for SECONDS DESCRIPTION COMMAND...: poll until COMMAND succeeds.
wait_for() {
  local secs="$1" what="$2" deadline
  shift 2
  deadline=$((SECONDS + secs))
  until "$@"; do
    ((SECONDS < deadline)) || fail "timed out after ${secs}s waiting for $what"
    sleep 0.5
  done
}

ETCD_CLIENT_PORT="$(free_port)"
ETCD_PEER_PORT="$(free_port)"
API_PORT="$(free_port)"
ETCD_URL="http://127.0.0.1:$ETCD_CLIENT_PORT"
API_URL="https://127.0.0.1:$API_PORT"

# ---- etcd ------------------------------------------------------------------
log "starting etcd on $ETCD_URL (peer :$ETCD_PEER_PORT)"
"$ASSETS/etcd" \
  --name=envtest \
  --data-dir="$WORK/etcd" \
  --listen-client-urls="$ETCD_URL" \
  --advertise-client-urls="$ETCD_URL" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="envtest=http://127.0.0.1:$ETCD_PEER_PORT" \
  --unsafe-no-fsync \
  --log-level=warn \
  >"$WORK/etcd.log" 2>&1 &
ETCD_PID=$!

etcd_healthy() {
  kill -0 "$ETCD_PID" 2>/dev/null || fail "etcd exited"
  curl -fsS "$ETCD_URL/health" 2>/dev/null | grep -q '"health":"true"'
}
wait_for 30 "etcd /health" etcd_healthy
log "etcd healthy"

# ---- credentials -------------------------------------------------------------
openssl genrsa -out "$WORK/sa.key" 2048 2>/dev/null
openssl rsa -in "$WORK/sa.key" -pubout -out "$WORK/sa.pub" 2>/dev/null
TOKEN="$(openssl rand -hex 24)"
# token,user,uid,"group[,group...]"
printf '%s,envtest-admin,envtest-admin,"system:masters"\n' "$TOKEN" >"$WORK/tokens.csv"
mkdir -p "$WORK/certs"

# ---- kube-apiserver ------------------------------------------------------------
log "starting kube-apiserver on $API_URL"
APISERVER_FLAGS=(
  --etcd-servers="$ETCD_URL"
  --bind-address=127.0.0.1
  --advertise-address=127.0.0.1
  --secure-port="$API_PORT"
  --cert-dir="$WORK/certs"
  --token-auth-file="$WORK/tokens.csv"
  --service-account-issuer=https://kubernetes.default.svc.cluster.local
  --service-account-key-file="$WORK/sa.pub"
  --service-account-signing-key-file="$WORK/sa.key"
  --authorization-mode=RBAC
  --service-cluster-ip-range=10.0.0.0/24
  --disable-admission-plugins=ServiceAccount
  --allow-privileged=true
)
"$ASSETS/kube-apiserver" "${APISERVER_FLAGS[@]}" >"$WORK/apiserver.log" 2>&1 &
APISERVER_PID=$!

# The self-signed serving cert appears in --cert-dir once the server starts;
# apiserver.crt holds the serving cert and the CA that signed it.
CA="$WORK/certs/apiserver.crt"
CODE=""
# req METHOD PATH [BODY-FILE]: HTTP status into $CODE, body into $WORK/resp.
req() {
  local args=(-sS --cacert "$CA" -H "Authorization: Bearer $TOKEN" -H 'Accept: application/json'
    -o "$WORK/resp" -w '%{http_code}' -X "$1")
  if [[ $# -ge 3 ]]; then
    args+=(-H 'Content-Type: application/yaml' --data-binary "@$3")
  fi
  CODE="$(curl "${args[@]}" "$API_URL$2" 2>"$WORK/curl.err" || true)"
}

apiserver_ready() {
  kill -0 "$APISERVER_PID" 2>/dev/null || fail "kube-apiserver exited"
  [[ -s "$CA" ]] || return 1
  req GET /readyz
  [[ "$CODE" == 200 ]]
}
start=$SECONDS
wait_for 120 "kube-apiserver /readyz" apiserver_ready
log "kube-apiserver ready after $((SECONDS - start))s: GET /readyz -> $CODE"
req GET /version
log "GET /version -> $CODE $(tr -d '\n ' <"$WORK/resp" | grep -o '"gitVersion":"[^"]*"' || true)"

cat >"$WORK/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: envtest
  cluster:
    server: $API_URL
    certificate-authority: $CA
users:
- name: envtest-admin
  user:
    token: $TOKEN
contexts:
- name: envtest
  context:
    cluster: envtest
    user: envtest-admin
current-context: envtest
EOF
log "kubeconfig: $WORK/kubeconfig"

# ---- CRD -------------------------------------------------------------------------
# POSTed as application/yaml, as generated (one document, leading '---' is fine).
req POST /apis/apiextensions.k8s.io/v1/customresourcedefinitions "$CRD"
[[ "$CODE" == 201 ]] || fail "create CRD: HTTP $CODE: $(head -c 2000 "$WORK/resp")"
log "POST customresourcedefinitions (hipaapolicies.phiguard.io) -> $CODE"

crd_established() {
  req GET /apis/apiextensions.k8s.io/v1/customresourcedefinitions/hipaapolicies.phiguard.io
  [[ "$CODE" == 200 ]] && tr -d '\n ' <"$WORK/resp" | grep -q '"type":"Established","status":"True"'
}
wait_for 60 "CRD Established" crd_established
log "CRD Established"

# ---- a valid HipaaPolicy -----------------------------------------------------------
create_policy() {
  req POST /apis/phiguard.io/v1alpha1/hipaapolicies "$POLICY"
  # 404 until the new resource reaches the API server's handler chain.
  [[ "$CODE" != 404 ]]
}
wait_for 30 "hipaapolicies endpoint" create_policy
[[ "$CODE" == 201 ]] || fail "create $POLICY_NAME: HTTP $CODE: $(head -c 2000 "$WORK/resp")"
log "POST hipaapolicies ($POLICY_NAME, from $(basename "$POLICY")) -> $CODE"

req GET "/apis/phiguard.io/v1alpha1/hipaapolicies/$POLICY_NAME"
[[ "$CODE" == 200 ]] || fail "get $POLICY_NAME: HTTP $CODE"
tr -d '\n ' <"$WORK/resp" >"$WORK/policy.json"
grep -q '"name":"general-hospital-mrn"' "$WORK/policy.json" || fail "read-back lacks spec.controls.phiInIdentifiers"
grep -q '"resourceArnPattern":"arn:aws:s3:::radiology-modality-inbox"' "$WORK/policy.json" ||
  fail "read-back lacks the exemption"
# Structural-schema defaulting ran: eligibleConfiguration is not in the example.
grep -q '"eligibleConfiguration":{"enabled":true}' "$WORK/policy.json" ||
  fail "read-back lacks the schema default controls.eligibleConfiguration"
log "GET hipaapolicies/$POLICY_NAME -> $CODE (spec round-tripped, schema defaults applied)"

# ---- CEL validation rejects a bad exemption ------------------------------------------
# reason "   " passes minLength: 1, so only the x-kubernetes-validations rule
# self.reason.matches('[^ \t]') ("an exemption needs a reason") can reject it.
cat >"$WORK/bad.yaml" <<'EOF'
apiVersion: phiguard.io/v1alpha1
kind: HipaaPolicy
metadata:
  name: smoke-bad-exemption
spec:
  exemptions:
    - resourceArnPattern: "arn:aws:s3:::scratch-*"
      rules: ["*"]
      reason: "   "
      expires: "2027-01-31"
EOF
req POST /apis/phiguard.io/v1alpha1/hipaapolicies "$WORK/bad.yaml"
[[ "$CODE" == 422 ]] || fail "bad exemption: want HTTP 422, got $CODE: $(head -c 2000 "$WORK/resp")"
grep -q 'an exemption needs a reason' "$WORK/resp" || fail "422 without the CEL message: $(head -c 2000 "$WORK/resp")"
# curl gets pretty-printed JSON; the first "message" is the Status message.
log "POST hipaapolicies (blank exemption reason) -> $CODE: $(sed -n 's/^ *"message": *"\(.*\)",\{0,1\}$/\1/p' "$WORK/resp" | head -n1)"
req GET /apis/phiguard.io/v1alpha1/hipaapolicies/smoke-bad-exemption
[[ "$CODE" == 404 ]] || fail "rejected object exists: HTTP $CODE"
log "GET hipaapolicies/smoke-bad-exemption -> $CODE (not stored)"

# ---- kubectl, when envtest.sh built it ---------------------------------------------------
if [[ -x "$ASSETS/kubectl" ]]; then
  log "kubectl get hipaapolicies:"
  "$ASSETS/kubectl" --kubeconfig "$WORK/kubeconfig" get hipaapolicies -o wide >&2 ||
    fail "kubectl get hipaapolicies"
fi

req DELETE "/apis/phiguard.io/v1alpha1/hipaapolicies/$POLICY_NAME"
log "DELETE hipaapolicies/$POLICY_NAME -> $CODE"
[[ "$CODE" == 200 ]] || fail "delete $POLICY_NAME: HTTP $CODE"

STATUS=0
log "PASS"
echo "envtest_smoke: 1 passed, 0 failed"
