#!/usr/bin/env bash
# Local backing services for tests and development: PostgreSQL, Redis, an
# S3-compatible object store (SeaweedFS), an Elasticsearch-API search server
# (OpenSearch), a Kafka broker and a Neo4j graph server, all on 127.0.0.1 on
# fixed high ports, with data and logs outside the repository.
#
#   deploy/local/services.sh up       start (or reuse) the selected servers
#   deploy/local/services.sh down     stop the servers this script started
#   deploy/local/services.sh status   show what is up (exit 1 when any is down)
#   deploy/local/services.sh env      print `export IK_TEST_*=...` lines
#
# Environment:
#   IK_SERVICES       which servers, default "postgres redis s3 search kafka neo4j"
#   IK_SERVICES_DIR   data/logs, default /var/tmp/innovation-kun/services
#   IK_CACHE_DIR      build cache (Go toolchain caches, weed binary, the
#                     OpenSearch launcher and its jars, the Kafka jars, the
#                     Neo4j launcher and its jars),
#                     default $HOME/.cache/innovation-kun
#   IK_SERVICES_TIMEOUT  seconds to wait for each server to become healthy
#                     (default 90; at least 120 for search)
#   IK_POSTGRES_PORT, IK_REDIS_PORT, IK_S3_PORT, IK_SEARCH_PORT, IK_KAFKA_PORT,
#   IK_NEO4J_PORT     ports (default 55432, 56379, 59000, 59200, 59092, 57687;
#                     Neo4j's is its Bolt port, the only one it opens);
#                     SeaweedFS's internal ports are IK_S3_PORT+1 .. +31,
#                     OpenSearch's node-to-node transport port is
#                     IK_SEARCH_PORT+100, Kafka's controller port IK_KAFKA_PORT+1
#   IK_SEARCH_JAVA    java for the search server (default: java on PATH, 17+)
#   IK_KAFKA_JAVA     java for the Kafka broker (default: java on PATH, 17+)
#   IK_NEO4J_JAVA     java for the Neo4j server (default: java on PATH, 17+)
#
# Usage from a Makefile or shell:
#   deploy/local/services.sh up && eval "$(deploy/local/services.sh env)"
#
# Progress goes to stderr so that `env` (stdout) can be eval'ed safely.
set -euo pipefail

SERVICES_DIR=${IK_SERVICES_DIR:-/var/tmp/innovation-kun/services}
CACHE_DIR=${IK_CACHE_DIR:-${HOME:-/root}/.cache/innovation-kun}
SELECTED=${IK_SERVICES:-postgres redis s3 search kafka neo4j}
TIMEOUT=${IK_SERVICES_TIMEOUT:-90}

PG_PORT=${IK_POSTGRES_PORT:-55432}
PG_USER=ik
PG_PASSWORD=ik
PG_DATABASES=(ik ik_test)

REDIS_PORT=${IK_REDIS_PORT:-56379}

# S3 front end on 59000; SeaweedFS also needs a master, a volume server and a
# filer, each with an HTTP and a gRPC port. The defaults (9333, 8080, 8888 and
# port+10000 for gRPC) collide with common dev servers and, for ports above
# 55535, would overflow, so every port is pinned next to the S3 one (590xx).
S3_PORT=${IK_S3_PORT:-59000}
S3_GRPC_PORT=$((S3_PORT + 1))
S3_MASTER_PORT=$((S3_PORT + 10))
S3_MASTER_GRPC_PORT=$((S3_PORT + 11))
S3_VOLUME_PORT=$((S3_PORT + 20))
S3_VOLUME_GRPC_PORT=$((S3_PORT + 21))
S3_FILER_PORT=$((S3_PORT + 30))
S3_FILER_GRPC_PORT=$((S3_PORT + 31))
S3_ACCESS_KEY=ikminio
S3_SECRET_KEY=ikminio-secret

# SeaweedFS from the Go module proxy. MinIO's server (github.com/minio/minio) is
# AGPL-licensed, which this project does not take on, so SeaweedFS (Apache-2.0)
# is the S3 server. Its go.mod has a replace directive, which `go install
# pkg@version` refuses, so the module is downloaded and built in place instead.
SEAWEEDFS_MODULE=github.com/seaweedfs/seaweedfs
SEAWEEDFS_VERSION=v0.0.0-20261109003541-7506e5f91cd6

# Elasticsearch-API search server. No Elasticsearch distribution can be
# downloaded here, so OpenSearch (Apache-2.0) is assembled from its Maven
# Central jars and run in-process by a tiny launcher (deploy/local/opensearch):
# the server plus the netty4 HTTP transport and the analysis-common module
# (english/porter stemming, keyword, ...). 2.19.x is the newest line that runs
# on Java 17. The HTTP API is the Elasticsearch 7.10 one.
SEARCH_PORT=${IK_SEARCH_PORT:-59200}
SEARCH_TRANSPORT_PORT=$((SEARCH_PORT + 100))
SEARCH_JAVA=${IK_SEARCH_JAVA:-java}
OPENSEARCH_VERSION=2.19.6

# Kafka: one broker in KRaft mode (broker and controller in one process), run
# from the broker's Maven Central jars (deploy/local/kafka/pom.xml), since no
# Kafka distribution can be downloaded here. 4.x brokers need Java 17.
KAFKA_PORT=${IK_KAFKA_PORT:-59092}
KAFKA_CONTROLLER_PORT=$((KAFKA_PORT + 1))
KAFKA_JAVA=${IK_KAFKA_JAVA:-java}
KAFKA_VERSION=4.1.1
# Fixed, so that a data directory formatted once always matches (any 16
# bytes, base64url without padding).
KAFKA_CLUSTER_ID=uK4HF70eR_fa4s55bmtVBg

# Neo4j Community: the embedded database with its Bolt connector, from Maven
# Central jars, run by a tiny launcher (deploy/local/neo4j), since no Neo4j
# distribution can be downloaded here. 5.26 is the LTS line that runs on
# Java 17 (2025.x needs 21). Auth is on, with a fixed test password, so the
# adapter is tested the way production connects.
NEO4J_PORT=${IK_NEO4J_PORT:-57687}
NEO4J_JAVA=${IK_NEO4J_JAVA:-java}
NEO4J_VERSION=5.26.30
NEO4J_USER=neo4j
NEO4J_PASSWORD=ik-neo4j-test

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

selected() {
  local s
  for s in $SELECTED; do [[ $s == "$1" ]] && return 0; done
  return 1
}

validate_selection() {
  local s
  for s in $SELECTED; do
    case $s in
      postgres | redis | s3 | search | kafka | neo4j) ;;
      *) die "unknown service '$s' in IK_SERVICES (known: postgres redis s3 search kafka neo4j)" ;;
    esac
  done
}

# Print the last lines of a log file to stderr, for failures.
show_log() {
  local file=$1
  if [[ -f $file ]]; then
    printf '[services] --- last 40 lines of %s ---\n' "$file" >&2
    tail -n 40 "$file" >&2 || true
    printf '[services] --- end of %s ---\n' "$file" >&2
  else
    log "(no log at $file)"
  fi
}

# wait_for DESCRIPTION LOGFILE PIDFILE COMMAND...: poll COMMAND until it
# succeeds or TIMEOUT passes; on timeout show the log and fail. With a PIDFILE
# (may be ""), fail at once when that process has died instead of waiting.
wait_for() {
  local what=$1 logfile=$2 pidfile=$3
  shift 3
  local deadline=$((SECONDS + TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    if [[ -n $pidfile ]] && ! pid_alive "$pidfile"; then
      show_log "$logfile"
      die "$what exited during startup (log: $logfile)"
    fi
    if ((SECONDS >= deadline)); then
      show_log "$logfile"
      die "$what did not become healthy within ${TIMEOUT}s (log: $logfile)"
    fi
    sleep 0.5
  done
}

# pid_alive PIDFILE [PATTERN]: the process in PIDFILE runs and, with PATTERN,
# its command line contains PATTERN. The pattern matters after a reboot or a
# SIGKILL, when a stale pidfile may name a pid that now belongs to another
# process.
pid_alive() {
  local pidfile=$1 pattern=${2:-} pid
  [[ -f $pidfile ]] || return 1
  pid=$(head -n 1 "$pidfile" 2>/dev/null) || return 1
  pid_running "$pid" || return 1
  [[ -z $pattern ]] || tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern"
}

# A killed server whose parent has not reaped it yet is a zombie: kill -0 (and
# so `pg_ctl status`) still succeeds, but it serves nothing. Seen after a
# SIGKILL here, where `up` then waited its whole timeout for a dead server.
pid_running() {
  local pid=$1 state
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null) || return 1
  [[ $state != Z && $state != X ]]
}

# stop_pidfile NAME PIDFILE PATTERN GRACE: stop the process in PIDFILE if its
# command line contains PATTERN (guards against a recycled pid): SIGTERM, then
# SIGKILL after GRACE seconds.
stop_pidfile() {
  local name=$1 pidfile=$2 pattern=$3 grace=$4 pid i
  if ! pid_alive "$pidfile" "$pattern"; then
    rm -f "$pidfile"
    log "$name: not running (started by us)"
    return 0
  fi
  pid=$(head -n 1 "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 4; i++)); do
    pid_running "$pid" || break
    sleep 0.25
  done
  if pid_running "$pid"; then
    log "$name: pid $pid still running ${grace}s after SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do
      pid_running "$pid" || break
      sleep 0.25
    done
  fi
  rm -f "$pidfile"
  log "$name: stopped (pid $pid)"
}

# ---------------------------------------------------------------- packages ---

pg_bindir() {
  # Prefer the major version the data directory was created with, so that a
  # newer PostgreSQL installed later does not try to open an older cluster.
  local want="" dir
  if [[ -f $SERVICES_DIR/postgres/data/PG_VERSION ]]; then
    want=$(<"$SERVICES_DIR/postgres/data/PG_VERSION")
    dir=/usr/lib/postgresql/$want/bin
    if [[ -x $dir/pg_ctl ]]; then
      echo "$dir"
      return 0
    fi
    return 1
  fi
  dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 3 -path '*/bin/pg_ctl' 2>/dev/null |
    sort -V | tail -n 1)
  [[ -n $dir ]] || return 1
  dirname "$dir"
}

# Install the Debian packages that selected services need, only when something
# is missing (a fresh CI machine), with a single `apt-get update` first.
ensure_packages() {
  local missing=()
  if selected postgres; then
    pg_bindir >/dev/null || missing+=(postgresql)
  fi
  if selected redis; then
    command -v redis-server >/dev/null || missing+=(redis-server)
    command -v redis-cli >/dev/null || missing+=(redis-tools)
  fi
  if selected s3 || selected search; then
    command -v curl >/dev/null || missing+=(curl)
  fi
  if selected search; then
    # A JDK (javac) and Maven only to build the launcher once; java to run it.
    if search_build_needed; then
      command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
      command -v mvn >/dev/null || missing+=(maven)
    elif ! command -v "$SEARCH_JAVA" >/dev/null; then
      missing+=(openjdk-17-jre-headless)
    fi
  fi
  if selected kafka; then
    if kafka_build_needed; then
      command -v mvn >/dev/null || missing+=(maven)
    fi
    command -v "$KAFKA_JAVA" >/dev/null || missing+=(openjdk-17-jre-headless)
  fi
  if selected neo4j; then
    # A JDK (javac) and Maven only to build the launcher once; java to run it.
    if neo4j_build_needed; then
      command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
      command -v mvn >/dev/null || missing+=(maven)
    elif ! command -v "$NEO4J_JAVA" >/dev/null; then
      missing+=(openjdk-17-jre-headless)
    fi
  fi
  ((${#missing[@]} == 0)) && return 0

  ((EUID == 0)) || die "missing packages (${missing[*]}) and not root: install them with apt-get"
  log "installing missing packages: ${missing[*]}"
  # The Debian packages start their own default servers (5432, 6379) where an
  # init system lets them; ours run on separate ports, so those do not matter.
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  if selected postgres && ! pg_bindir >/dev/null; then
    if [[ -f $SERVICES_DIR/postgres/data/PG_VERSION ]]; then
      die "the cluster in $SERVICES_DIR/postgres/data is PostgreSQL $(<"$SERVICES_DIR/postgres/data/PG_VERSION"), whose binaries are not installed; remove that directory to start afresh"
    fi
    die "PostgreSQL binaries not found under /usr/lib/postgresql after installing"
  fi
}

# --------------------------------------------------------------- postgres ---

PG_DIR=$SERVICES_DIR/postgres
PG_DATA=$PG_DIR/data
PG_LOG=$PG_DIR/postgres.log

# PostgreSQL refuses to run as root, so as root everything runs as the
# `postgres` system user (created by the Debian package); as another user, as
# that user.
as_pg() {
  if ((EUID == 0)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_ready_tcp() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2; }

# Our own server is recognised by a live postmaster.pid in our data directory
# (checked by hand rather than with `pg_ctl status`, which counts a zombie).
pg_ours_running() {
  pid_alive "$PG_DATA/postmaster.pid" postgres
}

pg_can_login() {
  PGPASSWORD=$PG_PASSWORD PGCONNECT_TIMEOUT=3 "$PG_BIN/psql" -X -q -w -h 127.0.0.1 -p "$PG_PORT" \
    -U "$PG_USER" -d "$1" -tAc 'select 1' >/dev/null 2>&1
}

pg_init() {
  if ((EUID == 0)); then
    id postgres >/dev/null 2>&1 ||
      useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
  mkdir -p "$PG_DIR"
  if ((EUID == 0)); then chown postgres: "$PG_DIR"; fi
  # The postgres user must reach the folder; a data dir under /root would not work.
  as_pg test -w "$PG_DIR" ||
    die "user postgres cannot write $PG_DIR; choose an IK_SERVICES_DIR it can reach (e.g. under /var/tmp)"
  if [[ ! -f $PG_DATA/PG_VERSION ]]; then
    log "postgres: initdb in $PG_DATA"
    rm -rf "$PG_DATA"
    # Local (socket) connections trust, so this script can administer the
    # cluster as `postgres` without a password; TCP needs a password, like a
    # real deployment.
    if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C \
      --auth-local=trust --auth-host=scram-sha-256 >"$PG_DIR/initdb.log" 2>&1; then
      show_log "$PG_DIR/initdb.log"
      die "postgres: initdb failed"
    fi
  fi
}

pg_start() {
  log "postgres: starting on 127.0.0.1:$PG_PORT"
  # A server killed a moment ago can linger as a zombie until its parent (or
  # init) reaps it; while its pid exists, postgres takes postmaster.pid and the
  # socket lock for live and refuses to start. Wait for it to go (about 1s
  # here); postgres then discards the stale lock files itself.
  local old_pid deadline=$((SECONDS + TIMEOUT))
  old_pid=$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)
  if [[ $old_pid =~ ^[0-9]+$ && -e /proc/$old_pid ]]; then
    log "postgres: waiting for the previous server (pid $old_pid) to be gone"
    while [[ -e /proc/$old_pid ]]; do
      ((SECONDS < deadline)) || die "postgres: pid $old_pid from $PG_DATA/postmaster.pid did not go away within ${TIMEOUT}s"
      sleep 0.25
    done
  fi
  # Settings go on the command line so that the data directory stays stock.
  # fsync and full_page_writes are off: this is a test server, and surviving
  # a power cut is not worth slowing the suite for. synchronous_commit stays
  # on, so a commit survives the server process being killed (as happens to
  # everything at a session's end); with it off, a commit made just before a
  # SIGKILL was seen to be lost.
  local opts="-c listen_addresses=127.0.0.1 -c port=$PG_PORT"
  opts+=" -c unix_socket_directories='$PG_DIR'"
  opts+=" -c fsync=off -c full_page_writes=off"
  opts+=" -c max_connections=200"
  if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -o "$opts" -w -t "$TIMEOUT" start >"$PG_DIR/pg_ctl.log" 2>&1 9>&-; then
    cat "$PG_DIR/pg_ctl.log" >&2 || true
    show_log "$PG_LOG"
    die "postgres failed to start or was not ready within ${TIMEOUT}s (log: $PG_LOG)"
  fi
  wait_for postgres "$PG_LOG" "" pg_ready_tcp
}

# Create role and databases if missing; runs on every `up`, cheap and idempotent.
pg_provision() {
  local sql db
  sql="DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
    CREATE ROLE $PG_USER LOGIN PASSWORD '$PG_PASSWORD';
  END IF;
END \$\$;
-- CREATEDB lets tests make throwaway databases (e.g. one per xdist worker).
ALTER ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
"
  for db in "${PG_DATABASES[@]}"; do
    # CREATE DATABASE has no IF NOT EXISTS; \gexec runs it only when missing.
    sql+="SELECT 'CREATE DATABASE $db OWNER $PG_USER' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$db')\\gexec
"
  done
  if ! as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres <<<"$sql" >/dev/null; then
    die "postgres: creating role $PG_USER / databases ${PG_DATABASES[*]} failed"
  fi
}

postgres_up() {
  PG_BIN=$(pg_bindir) || die "PostgreSQL binaries not found"
  if pg_ours_running; then
    # It may still be starting or recovering after a crash.
    wait_for postgres "$PG_LOG" "" pg_ready_tcp
    pg_provision
    log "postgres: already running (ours, $PG_DATA)"
    return 0
  fi
  if pg_ready_tcp; then
    # Someone else's server on our port: usable only if it already has our
    # role and test database, since we hold no superuser password for it.
    pg_can_login ik_test ||
      die "postgres: port $PG_PORT is taken by a server where $PG_USER/ik_test cannot log in"
    log "postgres: reusing the server already running on 127.0.0.1:$PG_PORT"
    return 0
  fi
  pg_init
  pg_start
  pg_provision
  log "postgres: up on 127.0.0.1:$PG_PORT (data $PG_DATA)"
}

postgres_down() {
  PG_BIN=$(pg_bindir) || {
    log "postgres: no binaries, nothing to stop"
    return 0
  }
  if pg_ours_running; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t "$TIMEOUT" stop >/dev/null
    log "postgres: stopped"
  else
    log "postgres: not running (started by us)"
  fi
}

postgres_health() {
  PG_BIN=$(pg_bindir) || return 1
  pg_ready_tcp && pg_can_login ik_test
}

# ------------------------------------------------------------------ redis ---

REDIS_DIR=$SERVICES_DIR/redis
REDIS_PID=$REDIS_DIR/redis.pid
REDIS_LOG=$REDIS_DIR/redis.log
REDIS_CONF=$REDIS_DIR/redis.conf

redis_ping() { [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

redis_up() {
  if redis_ping; then
    if pid_alive "$REDIS_PID" redis-server; then
      log "redis: already running (ours, pid $(<"$REDIS_PID"))"
    else
      log "redis: reusing the server already running on 127.0.0.1:$REDIS_PORT"
    fi
    return 0
  fi
  mkdir -p "$REDIS_DIR"
  # Written on every start so that a changed setting takes effect. No
  # persistence: test data is disposable and RDB saves would only cost time.
  cat >"$REDIS_CONF" <<EOF
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize yes
pidfile $REDIS_PID
logfile $REDIS_LOG
dir $REDIS_DIR
save ""
appendonly no
EOF
  log "redis: starting on 127.0.0.1:$REDIS_PORT"
  if ! redis-server "$REDIS_CONF" >>"$REDIS_LOG" 2>&1 9>&-; then
    show_log "$REDIS_LOG"
    die "redis-server failed to start (log: $REDIS_LOG)"
  fi
  wait_for redis "$REDIS_LOG" "" redis_ping
  log "redis: up on 127.0.0.1:$REDIS_PORT"
}

redis_down() { stop_pidfile redis "$REDIS_PID" redis-server 30; }

redis_health() { redis_ping; }

# -------------------------------------------------------------- s3 (weed) ---

S3_DIR=$SERVICES_DIR/s3
S3_PID=$S3_DIR/weed.pid
S3_LOG=$S3_DIR/weed.log
S3_CONF=$S3_DIR/s3.json
GO_DIR=$CACHE_DIR/go
# The version is in the file name so that bumping SEAWEEDFS_VERSION rebuilds.
WEED_BIN=$GO_DIR/bin/weed-$SEAWEEDFS_VERSION

# Build the weed binary once; the module and build caches live under
# IK_CACHE_DIR so that later builds (e.g. after a version bump) are quick.
weed_build() {
  [[ -x $WEED_BIN ]] && return 0
  command -v go >/dev/null || die "s3: 'go' is needed to build SeaweedFS (set IK_SERVICES to skip s3)"
  mkdir -p "$GO_DIR/bin"
  export GOPATH=$GO_DIR/path GOCACHE=$GO_DIR/build GOMODCACHE=$GO_DIR/mod
  # No VCS stamping: the module cache is not a git checkout.
  export GOFLAGS="-buildvcs=false -mod=readonly"
  local build_log=$GO_DIR/weed-build.log src start=$SECONDS
  log "s3: building SeaweedFS $SEAWEEDFS_VERSION with $(go version | cut -d' ' -f3) (cold: several minutes; log: $build_log)"
  if ! src=$(go mod download -json "$SEAWEEDFS_MODULE@$SEAWEEDFS_VERSION" 2>"$build_log" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') || [[ -z $src ]]; then
    show_log "$build_log"
    die "s3: could not download $SEAWEEDFS_MODULE@$SEAWEEDFS_VERSION"
  fi
  # Build inside the downloaded module so that its go.mod (replace directives
  # included) and go.sum are used as-is; write to a temp name, then rename, so
  # an interrupted build never leaves a half-written binary behind.
  if ! (cd "$src" && go build -trimpath -ldflags='-s -w' -o "$WEED_BIN.tmp" ./weed) >>"$build_log" 2>&1; then
    show_log "$build_log"
    die "s3: building SeaweedFS failed (log: $build_log)"
  fi
  mv -f "$WEED_BIN.tmp" "$WEED_BIN"
  log "s3: built $WEED_BIN in $((SECONDS - start))s"
}

# Any HTTP answer from the S3 port (anonymous requests get 403 AccessDenied).
s3_http() { curl -s -o /dev/null -m 3 "http://127.0.0.1:$S3_PORT/"; }

# Ready for use when all of these hold:
# - the master has elected itself leader (until then requests hang);
# - it is past its warm-up: after a restart with existing volumes the master
#   refuses volume assignment for 3 heartbeat pulses (15s, fixed in SeaweedFS)
#   and the first PutObject of a new bucket would stall that long. A lookup of
#   a volume id that does not exist answers 503 during warm-up and 404 after,
#   with no side effects;
# - a volume server with free slots has registered (else the first PutObject
#   fails with "no writable volumes");
# - a signed ListBuckets succeeds end to end (S3 gateway -> filer).
s3_ready() {
  local master=http://127.0.0.1:$S3_MASTER_PORT
  curl -sf -m 3 "$master/cluster/status" | grep -q '"IsLeader":true' || return 1
  [[ $(curl -s -o /dev/null -m 3 -w '%{http_code}' "$master/dir/lookup?volumeId=4294967295") == 404 ]] || return 1
  curl -sf -m 3 "$master/dir/status" | grep -q '"Max":[1-9]' || return 1
  s3_signed_ok
}

# One real write, then cleanup. Even when s3_ready holds, SeaweedFS's filer
# announces itself to the master only 3-10s after start, and until then
# PutObject waits for the filer lock ring ("no lock server found"): the first
# write of a test took 7s on a fresh store. This PUT blocks until writes work.
# x-amz-content-sha256 must be sent: curl signs no payload hash by itself.
S3_PROBE_BUCKET=ik-services-probe
s3_write_probe() {
  local url=http://127.0.0.1:$S3_PORT/$S3_PROBE_BUCKET
  local sig=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY")
  # 200, or 409 when the bucket is left from an interrupted probe.
  curl -s -o /dev/null -m 10 "${sig[@]}" -X PUT "$url" || return 1
  curl -sf -o /dev/null -m 30 "${sig[@]}" -X PUT -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
    --data-binary ok "$url/probe" || return 1
  curl -sf -o /dev/null -m 10 "${sig[@]}" -X DELETE "$url/probe" || return 1
  curl -sf -o /dev/null -m 10 "${sig[@]}" -X DELETE "$url"
}

# A signed ListBuckets with our keys (curl >= 7.75 signs SigV4 itself).
s3_signed_ok() {
  curl -sf -m 5 -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" "http://127.0.0.1:$S3_PORT/"
}

s3_up() {
  if pid_alive "$S3_PID" "$WEED_BIN"; then
    # Ours, possibly still starting (e.g. an earlier `up` was interrupted).
    wait_for "s3 (SeaweedFS)" "$S3_LOG" "$S3_PID" s3_ready
    log "s3: already running (ours, pid $(<"$S3_PID"))"
    return 0
  fi
  if s3_http; then
    s3_signed_ok ||
      die "s3: port $S3_PORT is taken by a server that refuses key $S3_ACCESS_KEY"
    log "s3: reusing the server already running on 127.0.0.1:$S3_PORT"
    return 0
  fi
  weed_build
  mkdir -p "$S3_DIR/data" "$S3_DIR/master"
  cat >"$S3_CONF" <<EOF
{
  "identities": [
    {
      "name": "ik",
      "credentials": [{"accessKey": "$S3_ACCESS_KEY", "secretKey": "$S3_SECRET_KEY"}],
      "actions": ["Admin", "Read", "List", "Tagging", "Write"]
    }
  ]
}
EOF
  # master.toml is read from the working directory. Each bucket is its own
  # collection, and by default the master grows 7 volumes for each, so with
  # -volume.max slots a test suite that makes a bucket per test ran out after
  # ~28 buckets (HTTP 500 on PutObject). One volume per collection stretches
  # the same slots across hundreds of buckets. allocation_deferral 0s: no
  # hold on the first writes after a restart (the scaffold's advice for tests).
  cat >"$S3_DIR/master.toml" <<'EOF'
[master.volume_growth]
copy_1 = 1
copy_2 = 2
copy_3 = 3
copy_other = 1
threshold = 0.9
disable = false
allocation_deferral = "0s"
EOF
  log "s3: starting SeaweedFS on 127.0.0.1:$S3_PORT"
  # One process runs master, volume server, filer and S3 gateway.
  # volumeSizeLimitMB is small and volume.max generous because every bucket
  # holds at least one volume of its own (volumes are not preallocated, so
  # slots cost no disk until written).
  # The Iceberg/Lance catalog ports (8181, 9101 by default) are not needed.
  # The filer's and the gateway's HTTP unix sockets would otherwise go to
  # /tmp, named by port only (SeaweedFS still puts its gRPC ones there).
  # A single master needs no 10s election timeout (the default, paid on every
  # restart), nor does a test volume server need a 10s grace period on stop.
  # setsid + nohup detach it from this shell (and from a CI job's process
  # group), so it keeps running after `up` returns.
  local args=(
    server
    -ip=127.0.0.1 -ip.bind=127.0.0.1
    -dir="$S3_DIR/data"
    -master.dir="$S3_DIR/master"
    -master.port="$S3_MASTER_PORT" -master.port.grpc="$S3_MASTER_GRPC_PORT"
    -master.volumeSizeLimitMB=64 -master.electionTimeout=1s
    -volume.port="$S3_VOLUME_PORT" -volume.port.grpc="$S3_VOLUME_GRPC_PORT"
    -volume.max=500 -volume.preStopSeconds=0
    -filer
    -filer.port="$S3_FILER_PORT" -filer.port.grpc="$S3_FILER_GRPC_PORT"
    -filer.localSocket="$S3_DIR/filer.sock" -s3.localSocket="$S3_DIR/s3.sock"
    -s3 -s3.port="$S3_PORT" -s3.port.grpc="$S3_GRPC_PORT"
    -s3.config="$S3_CONF"
    -s3.port.iceberg=0 -s3.port.lance=0
  )
  (cd "$S3_DIR" && exec setsid nohup "$WEED_BIN" "${args[@]}" >>"$S3_LOG" 2>&1 </dev/null 9>&-) &
  echo $! >"$S3_PID"
  wait_for "s3 (SeaweedFS)" "$S3_LOG" "$S3_PID" s3_ready
  wait_for "s3 (SeaweedFS) writes" "$S3_LOG" "$S3_PID" s3_write_probe
  log "s3: up on 127.0.0.1:$S3_PORT (pid $(<"$S3_PID"), data $S3_DIR)"
}

# SeaweedFS's graceful stop takes 15-45s (its HTTP servers wait out idle
# keep-alive connections, the filer retries a log flush to the volume server
# that already stopped). SIGKILL after a short grace loses nothing: every
# write has already reached the kernel (append-only volume files, leveldb
# journal), and only a machine crash could drop page-cache data.
s3_down() { stop_pidfile s3 "$S3_PID" "$WEED_BIN" 10; }

s3_health() { s3_signed_ok; }

# ------------------------------------------------------- search (opensearch) ---

SEARCH_DIR=$SERVICES_DIR/search
SEARCH_PID=$SEARCH_DIR/search.pid
SEARCH_LOG=$SEARCH_DIR/search.log
SEARCH_URL=http://127.0.0.1:$SEARCH_PORT
SEARCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/opensearch
SEARCH_MAIN=org.innovationkun.search.OpenSearchLauncher
# Built once into the cache: the launcher jar, every runtime jar in lib/, and
# a stamp with the checksum of the sources it was built from (written last).
SEARCH_CACHE=$CACHE_DIR/opensearch-$OPENSEARCH_VERSION
SEARCH_JAR=$SEARCH_CACHE/ik-opensearch-launcher.jar
SEARCH_LIB=$SEARCH_CACHE/lib
SEARCH_STAMP=$SEARCH_CACHE/sources.sha256

# A launcher built by Maven, cached with a stamp of its sources' checksum (written last):
# launcher_src_sum SRC, launcher_build_needed SRC JAR LIB STAMP.
launcher_src_sum() {
  (cd "$1" && find pom.xml src -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) |
    sha256sum | cut -d' ' -f1
}

launcher_build_needed() {
  [[ -f $2 && -d $3 && -f $4 ]] || return 0
  [[ $(<"$4") != "$(launcher_src_sum "$1")" ]]
}

# launcher_build NAME SRC CACHE JAR LIB STAMP WHAT COLD: compile the launcher and copy its
# runtime jars into the cache. The jars come from Maven Central through ~/.m2 once;
# afterwards neither the network nor Maven is needed until the launcher's sources change.
launcher_build() {
  local name=$1 src=$2 cache=$3 jar=$4 lib=$5 stamp=$6 what=$7 cold=$8
  launcher_build_needed "$src" "$jar" "$lib" "$stamp" || return 0
  command -v mvn >/dev/null || die "$name: 'mvn' is needed to build the $what launcher (set IK_SERVICES to skip $name)"
  local build_log=$cache/build.log tmp=$cache/tmp start=$SECONDS sum
  sum=$(launcher_src_sum "$src")
  mkdir -p "$cache"
  rm -rf "$tmp"
  log "$name: building the $what launcher (cold: $cold; log: $build_log)"
  if ! mvn -B -q -f "$src/pom.xml" -Dik.build.dir="$tmp/build" \
    package dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp/lib" \
    >"$build_log" 2>&1 </dev/null 9>&-; then
    show_log "$build_log"
    die "$name: building the launcher failed (log: $build_log)"
  fi
  # Swap the new build in whole, then write the stamp, so an interrupted build
  # never passes for a finished one.
  rm -f "$stamp"
  rm -rf "$lib"
  mv "$tmp/lib" "$lib"
  mv -f "$tmp/build/$(basename "$jar")" "$jar"
  rm -rf "$tmp"
  echo "$sum" >"$stamp"
  log "$name: built $jar in $((SECONDS - start))s"
}

search_build_needed() { launcher_build_needed "$SEARCH_SRC" "$SEARCH_JAR" "$SEARCH_LIB" "$SEARCH_STAMP"; }

# The OpenSearch launcher and its runtime jars (~45 MB).
search_build() {
  launcher_build search "$SEARCH_SRC" "$SEARCH_CACHE" "$SEARCH_JAR" "$SEARCH_LIB" "$SEARCH_STAMP" \
    "OpenSearch $OPENSEARCH_VERSION" "about a minute"
}

# Yellow is the best a single node reaches for indexes with replicas (the
# default of 1 replica cannot be placed), so it counts as healthy.
search_ready() {
  curl -sf -m 5 -o /dev/null "$SEARCH_URL/_cluster/health?wait_for_status=yellow&timeout=2s"
}

# Any HTTP answer from the search port.
search_http() { curl -s -o /dev/null -m 3 "$SEARCH_URL/"; }

search_up() {
  # The first start of a JVM on a busy 2-core machine can be slow.
  local TIMEOUT=$((TIMEOUT > 120 ? TIMEOUT : 120))
  if pid_alive "$SEARCH_PID" "$SEARCH_MAIN"; then
    wait_for "search (OpenSearch)" "$SEARCH_LOG" "$SEARCH_PID" search_ready
    log "search: already running (ours, pid $(<"$SEARCH_PID"))"
    return 0
  fi
  if search_http; then
    curl -sf -m 5 "$SEARCH_URL/" | grep -q '"cluster_name"' ||
      die "search: port $SEARCH_PORT is taken by something that is not an Elasticsearch-API server"
    wait_for "search (the server on $SEARCH_PORT)" "" "" search_ready
    log "search: reusing the server already running on 127.0.0.1:$SEARCH_PORT"
    return 0
  fi
  search_build
  command -v "$SEARCH_JAVA" >/dev/null || die "search: '$SEARCH_JAVA' not found (set IK_SEARCH_JAVA)"
  mkdir -p "$SEARCH_DIR"
  log "search: starting OpenSearch $OPENSEARCH_VERSION on 127.0.0.1:$SEARCH_PORT"
  # A small fixed heap: the suite's indexes are tiny, and CI runs the tests
  # next to it on 2 cores. The launcher keeps path.home/data/logs under
  # SEARCH_DIR and closes the node on SIGTERM. setsid + nohup detach it as
  # for s3.
  local args=(
    -Xms256m -Xmx512m -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true -Dfile.encoding=UTF-8
    -Djava.io.tmpdir="$SEARCH_DIR/tmp"
    -cp "$SEARCH_JAR:$SEARCH_LIB/*"
    "$SEARCH_MAIN" "$SEARCH_DIR" "$SEARCH_PORT" "$SEARCH_TRANSPORT_PORT"
  )
  mkdir -p "$SEARCH_DIR/tmp"
  (cd "$SEARCH_DIR" && exec setsid nohup "$SEARCH_JAVA" "${args[@]}" >>"$SEARCH_LOG" 2>&1 </dev/null 9>&-) &
  echo $! >"$SEARCH_PID"
  wait_for "search (OpenSearch)" "$SEARCH_LOG" "$SEARCH_PID" search_ready
  log "search: up on 127.0.0.1:$SEARCH_PORT (pid $(<"$SEARCH_PID"), data $SEARCH_DIR/data)"
}

# The node closes in ~2s on SIGTERM (it flushes its shards first).
search_down() { stop_pidfile search "$SEARCH_PID" "$SEARCH_MAIN" 30; }

search_health() { search_ready; }

# ------------------------------------------------------------------ kafka ---

KAFKA_DIR=$SERVICES_DIR/kafka
KAFKA_PID=$KAFKA_DIR/kafka.pid
KAFKA_LOG=$KAFKA_DIR/kafka.log
KAFKA_CONF=$KAFKA_DIR/server.properties
KAFKA_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/kafka
KAFKA_MAIN=kafka.Kafka
# Fetched once into the cache: every runtime jar in lib/ and a stamp with the
# checksum of the pom they were resolved from (written last).
KAFKA_CACHE=$CACHE_DIR/kafka-$KAFKA_VERSION
KAFKA_LIB=$KAFKA_CACHE/lib
KAFKA_STAMP=$KAFKA_CACHE/pom.sha256

kafka_pom_sum() { sha256sum <"$KAFKA_SRC/pom.xml" | cut -d' ' -f1; }

kafka_build_needed() {
  [[ -d $KAFKA_LIB && -f $KAFKA_STAMP ]] || return 0
  [[ $(<"$KAFKA_STAMP") != "$(kafka_pom_sum)" ]]
}

# Copy the broker's runtime jars (~45 MB) into the cache; they come from
# Maven Central through ~/.m2 once, so later rebuilds need no network.
kafka_build() {
  kafka_build_needed || return 0
  command -v mvn >/dev/null || die "kafka: 'mvn' is needed to fetch the Kafka jars (set IK_SERVICES to skip kafka)"
  local build_log=$KAFKA_CACHE/build.log tmp=$KAFKA_CACHE/tmp start=$SECONDS sum
  sum=$(kafka_pom_sum)
  mkdir -p "$KAFKA_CACHE"
  rm -rf "$tmp"
  log "kafka: fetching the Kafka $KAFKA_VERSION jars (cold: under a minute; log: $build_log)"
  if ! mvn -B -q -f "$KAFKA_SRC/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$tmp/lib" >"$build_log" 2>&1 </dev/null 9>&-; then
    show_log "$build_log"
    die "kafka: fetching the jars failed (log: $build_log)"
  fi
  # Swap the new jars in whole, then write the stamp, so an interrupted fetch
  # never passes for a finished one.
  rm -f "$KAFKA_STAMP"
  rm -rf "$KAFKA_LIB"
  mv "$tmp/lib" "$KAFKA_LIB"
  rm -rf "$tmp"
  echo "$sum" >"$KAFKA_STAMP"
  log "kafka: fetched $KAFKA_LIB in $((SECONDS - start))s"
}

# An ApiVersions request (v0, correlation id 1, client id "ik") over bash's
# /dev/tcp; the answer must carry our correlation id and error code 0. The
# broker serves clients only once it has caught up with the controller's
# metadata and is unfenced, so an answer means ready, not just listening.
kafka_ready() {
  local out
  out=$(timeout 5 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "\x00\x00\x00\x0c\x00\x12\x00\x00\x00\x00\x00\x01\x00\x02ik" >&3
    head -c 10 <&3 | od -An -tx1' _ "$KAFKA_PORT" 2>/dev/null) || return 1
  out=${out//[[:space:]]/}
  [[ ${out:8:12} == 000000010000 ]]
}

kafka_tcp() { timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$KAFKA_PORT" 2>/dev/null; }

# Written on every start so that a changed setting takes effect. Replication
# factors are 1 (one broker); the offsets topic gets 3 partitions instead of
# 50, which a fresh broker would otherwise create on the first group join; no
# initial rebalance delay, or every new consumer group would wait 3s. Topics
# are created by the application with their partition count, never
# implicitly by a produce to a mistyped name.
kafka_write_config() {
  cat >"$KAFKA_CONF" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
auto.create.topics.enable=false
delete.topic.enable=true
group.initial.rebalance.delay.ms=0
EOF
  cat >"$KAFKA_DIR/log4j2.properties" <<'EOF'
rootLogger.level=INFO
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
EOF
}

# A small fixed heap, as for search: test topics are tiny and the suite runs
# next to the broker on 2 cores.
kafka_java_opts() {
  KAFKA_JAVA_OPTS=(
    -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true -Dfile.encoding=UTF-8
    -Djava.io.tmpdir="$KAFKA_DIR/tmp"
    -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties"
    -Dkafka.logs.dir="$KAFKA_DIR"
    -cp "$KAFKA_LIB/*"
  )
}

# What `kafka-storage.sh format` does, once per data directory, with the fixed
# cluster id.
kafka_format() {
  [[ -f $KAFKA_DIR/data/meta.properties ]] && return 0
  log "kafka: formatting $KAFKA_DIR/data (cluster id $KAFKA_CLUSTER_ID)"
  if ! "$KAFKA_JAVA" "${KAFKA_JAVA_OPTS[@]}" kafka.tools.StorageTool format \
    --cluster-id "$KAFKA_CLUSTER_ID" --config "$KAFKA_CONF" --ignore-formatted \
    >"$KAFKA_DIR/format.log" 2>&1 </dev/null 9>&-; then
    show_log "$KAFKA_DIR/format.log"
    die "kafka: formatting the data directory failed"
  fi
}

kafka_up() {
  if pid_alive "$KAFKA_PID" "$KAFKA_MAIN"; then
    wait_for kafka "$KAFKA_LOG" "$KAFKA_PID" kafka_ready
    log "kafka: already running (ours, pid $(<"$KAFKA_PID"))"
    return 0
  fi
  if kafka_tcp; then
    kafka_ready || die "kafka: port $KAFKA_PORT is taken by something that does not answer Kafka's ApiVersions"
    log "kafka: reusing the broker already running on 127.0.0.1:$KAFKA_PORT"
    return 0
  fi
  kafka_build
  command -v "$KAFKA_JAVA" >/dev/null || die "kafka: '$KAFKA_JAVA' not found (set IK_KAFKA_JAVA)"
  mkdir -p "$KAFKA_DIR/tmp"
  kafka_write_config
  kafka_java_opts
  kafka_format
  log "kafka: starting Kafka $KAFKA_VERSION (KRaft) on 127.0.0.1:$KAFKA_PORT"
  # setsid + nohup detach it as for s3.
  (cd "$KAFKA_DIR" && exec setsid nohup "$KAFKA_JAVA" "${KAFKA_JAVA_OPTS[@]}" "$KAFKA_MAIN" "$KAFKA_CONF" \
    >>"$KAFKA_LOG" 2>&1 </dev/null 9>&-) &
  echo $! >"$KAFKA_PID"
  wait_for kafka "$KAFKA_LOG" "$KAFKA_PID" kafka_ready
  log "kafka: up on 127.0.0.1:$KAFKA_PORT (pid $(<"$KAFKA_PID"), data $KAFKA_DIR/data)"
}

# A single combined node shuts down (controlled) in a few seconds on SIGTERM.
kafka_down() { stop_pidfile kafka "$KAFKA_PID" "$KAFKA_MAIN" 30; }

kafka_health() { kafka_ready; }

# ------------------------------------------------------------------ neo4j ---

NEO4J_DIR=$SERVICES_DIR/neo4j
NEO4J_PID=$NEO4J_DIR/neo4j.pid
NEO4J_LOG=$NEO4J_DIR/neo4j.log
NEO4J_CONF=$NEO4J_DIR/neo4j.conf
# Written by the launcher once the password is set and the default database
# answers; removed on shutdown and before each start.
NEO4J_READY=$NEO4J_DIR/ready
NEO4J_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/neo4j
NEO4J_MAIN=org.innovationkun.graph.Neo4jLauncher
# Built once into the cache: the launcher jar, every runtime jar in lib/, and
# a stamp with the checksum of the sources it was built from (written last).
NEO4J_CACHE=$CACHE_DIR/neo4j-$NEO4J_VERSION
NEO4J_JAR=$NEO4J_CACHE/ik-neo4j-launcher.jar
NEO4J_LIB=$NEO4J_CACHE/lib
NEO4J_STAMP=$NEO4J_CACHE/sources.sha256

# A class-data-sharing archive of the classes the server loads, one per java
# binary: the first start writes it when the JVM exits (ArchiveClassesAtExit),
# later starts map it, which takes about a third off a start on 2 busy cores.
# A stale or damaged archive only turns sharing off (the JVM warns and goes on).
neo4j_cds() {
  local java
  java=$(readlink -f "$(command -v "$NEO4J_JAVA")") || java=$NEO4J_JAVA
  echo "$NEO4J_CACHE/cds-$(printf '%s' "$java" | sha256sum | cut -c1-12).jsa"
}

neo4j_build_needed() { launcher_build_needed "$NEO4J_SRC" "$NEO4J_JAR" "$NEO4J_LIB" "$NEO4J_STAMP"; }

# The Neo4j launcher and its runtime jars (~125 MB). A new build invalidates the class-data
# archives, which were dumped from the old jars.
neo4j_build() {
  neo4j_build_needed || return 0
  rm -f "$NEO4J_CACHE"/cds-*.jsa
  launcher_build neo4j "$NEO4J_SRC" "$NEO4J_CACHE" "$NEO4J_JAR" "$NEO4J_LIB" "$NEO4J_STAMP" \
    "Neo4j $NEO4J_VERSION" "one to two minutes"
}

# A Bolt handshake over bash's /dev/tcp: the magic 0x6060B017 and four
# version proposals (5.0-5.8, 4.0-4.4, then none); a Bolt server answers with
# the version it picked, 4 bytes that are not all zero.
neo4j_bolt() {
  local out
  out=$(timeout 5 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "\x60\x60\xb0\x17\x00\x08\x08\x05\x00\x04\x04\x04\x00\x00\x00\x00\x00\x00\x00\x00" >&3
    head -c 4 <&3 | od -An -tx1' _ "$NEO4J_PORT" 2>/dev/null) || return 1
  out=${out//[[:space:]]/}
  [[ ${#out} == 8 && $out != 00000000 ]]
}

neo4j_tcp() { timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$NEO4J_PORT" 2>/dev/null; }

# Bolt listens before the launcher has set the password; ours is ready only
# once it says so.
neo4j_ready() { [[ -f $NEO4J_READY ]] && neo4j_bolt; }

# Written on every start so that a changed setting takes effect; unknown keys
# fail the start (strict validation). Only Bolt, on 127.0.0.1; no lock-out
# after failed logins (a test of a wrong password must not lock the suite's
# user for the next tests); a small page cache and transaction memory (the
# test graphs are tiny); two transaction log files kept instead of a week's;
# no usage reports (no internet anyway); Bolt closes at once on SIGTERM
# instead of waiting out two 5s quiet periods.
neo4j_write_config() {
  cat >"$NEO4J_CONF" <<EOF
server.bolt.enabled=true
server.bolt.listen_address=127.0.0.1:$NEO4J_PORT
server.bolt.advertised_address=127.0.0.1:$NEO4J_PORT
server.http.enabled=false
server.https.enabled=false
dbms.security.auth_enabled=true
dbms.security.auth_max_failed_attempts=0
server.memory.pagecache.size=128m
dbms.memory.transaction.total.max=128m
db.tx_log.rotation.retention_policy=2 files
db.tx_log.preallocate=false
dbms.usage_report.enabled=false
internal.server.bolt.connection_shutdown_wait_time=1s
internal.dbms.bolt.netty_server_shutdown_quiet_period=0
internal.dbms.bolt.netty_server_shutdown_timeout=2
EOF
}

neo4j_up() {
  if pid_alive "$NEO4J_PID" "$NEO4J_MAIN"; then
    wait_for neo4j "$NEO4J_LOG" "$NEO4J_PID" neo4j_ready
    log "neo4j: already running (ours, pid $(<"$NEO4J_PID"))"
    return 0
  fi
  if neo4j_tcp; then
    neo4j_bolt || die "neo4j: port $NEO4J_PORT is taken by something that does not answer a Bolt handshake"
    log "neo4j: reusing the server already running on 127.0.0.1:$NEO4J_PORT (it must accept $NEO4J_USER/$NEO4J_PASSWORD)"
    return 0
  fi
  neo4j_build
  command -v "$NEO4J_JAVA" >/dev/null || die "neo4j: '$NEO4J_JAVA' not found (set IK_NEO4J_JAVA)"
  mkdir -p "$NEO4J_DIR/tmp"
  rm -f "$NEO4J_READY"
  neo4j_write_config
  log "neo4j: starting Neo4j $NEO4J_VERSION on bolt://127.0.0.1:$NEO4J_PORT"
  # A small fixed heap, as for search and kafka. The --add-opens are the ones
  # Neo4j's own start script passes (page cache and netty reach into NIO
  # buffers; without them it falls back to slower paths and warns). C1 only
  # (TieredStopAtLevel=1): the start is mostly class loading and JIT on a
  # 2-core CI machine, and the test queries are too small to need C2.
  # setsid + nohup detach it as for s3; the password goes in the environment.
  local cds cds_opt
  cds=$(neo4j_cds)
  if [[ -f $cds ]]; then cds_opt=-XX:SharedArchiveFile=$cds; else cds_opt=-XX:ArchiveClassesAtExit=$cds; fi
  local args=(
    -Xms256m -Xmx512m -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -XX:TieredStopAtLevel=1
    -Xshare:auto "$cds_opt" -Xlog:cds=error -Xlog:cds+dynamic=error
    -XX:-OmitStackTraceInFastThrow -XX:+DisableExplicitGC
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
    -Dio.netty.tryReflectionSetAccessible=true -Djdk.nio.maxCachedBufferSize=1024
    -Dlog4j2.disable.jmx=true -Djava.awt.headless=true -Dfile.encoding=UTF-8
    -Djava.io.tmpdir="$NEO4J_DIR/tmp"
    -cp "$NEO4J_JAR:$NEO4J_LIB/*"
    "$NEO4J_MAIN" "$NEO4J_DIR" "$NEO4J_CONF"
  )
  (cd "$NEO4J_DIR" && IK_NEO4J_PASSWORD=$NEO4J_PASSWORD exec setsid nohup "$NEO4J_JAVA" "${args[@]}" \
    >>"$NEO4J_LOG" 2>&1 </dev/null 9>&-) &
  echo $! >"$NEO4J_PID"
  wait_for neo4j "$NEO4J_LOG" "$NEO4J_PID" neo4j_ready
  log "neo4j: up on bolt://127.0.0.1:$NEO4J_PORT (pid $(<"$NEO4J_PID"), data $NEO4J_DIR/data)"
}

# The databases check-point and close on SIGTERM (about 10s on 2 busy cores).
neo4j_down() {
  stop_pidfile neo4j "$NEO4J_PID" "$NEO4J_MAIN" 30
  rm -f "$NEO4J_READY"
}

neo4j_health() { neo4j_bolt; }

# ---------------------------------------------------------------- commands ---

with_lock() {
  mkdir -p "$SERVICES_DIR"
  # Two `up`s at once (e.g. parallel make targets) would race on initdb and
  # ports; serialise them. Servers are started with fd 9 closed (`9>&-`), or
  # they would hold the lock for as long as they run.
  exec 9>"$SERVICES_DIR/.lock"
  flock -w 900 9 || die "another services.sh holds $SERVICES_DIR/.lock"
}

cmd_up() {
  # Inside the lock, so that two `up`s never run apt-get at the same time.
  with_lock
  ensure_packages
  local start=$SECONDS
  selected postgres && postgres_up
  selected redis && redis_up
  selected s3 && s3_up
  selected search && search_up
  selected kafka && kafka_up
  selected neo4j && neo4j_up
  log "all selected services up ($SELECTED) in $((SECONDS - start))s"
}

cmd_down() {
  with_lock
  # Stops only servers that this script started (by pidfile / data dir);
  # a reused foreign server is left alone.
  selected neo4j && neo4j_down
  selected kafka && kafka_down
  selected search && search_down
  selected s3 && s3_down
  selected redis && redis_down
  selected postgres && postgres_down
  return 0
}

cmd_status() {
  local rc=0
  if selected postgres; then
    if postgres_health; then
      echo "postgres: up   127.0.0.1:$PG_PORT ($( (PG_BIN=$(pg_bindir) && pg_ours_running) && echo "ours, $PG_DATA" || echo reused))"
    else
      echo "postgres: down"
      rc=1
    fi
  fi
  if selected redis; then
    if redis_health; then
      echo "redis:    up   127.0.0.1:$REDIS_PORT ($(pid_alive "$REDIS_PID" redis-server && echo "ours, pid $(<"$REDIS_PID")" || echo reused))"
    else
      echo "redis:    down"
      rc=1
    fi
  fi
  if selected s3; then
    if s3_health; then
      echo "s3:       up   127.0.0.1:$S3_PORT ($(pid_alive "$S3_PID" "$WEED_BIN" && echo "ours, SeaweedFS pid $(<"$S3_PID")" || echo reused))"
    else
      echo "s3:       down"
      rc=1
    fi
  fi
  if selected search; then
    if search_health; then
      echo "search:   up   127.0.0.1:$SEARCH_PORT ($(pid_alive "$SEARCH_PID" "$SEARCH_MAIN" && echo "ours, OpenSearch $OPENSEARCH_VERSION pid $(<"$SEARCH_PID")" || echo reused))"
    else
      echo "search:   down"
      rc=1
    fi
  fi
  if selected kafka; then
    if kafka_health; then
      echo "kafka:    up   127.0.0.1:$KAFKA_PORT ($(pid_alive "$KAFKA_PID" "$KAFKA_MAIN" && echo "ours, Kafka $KAFKA_VERSION pid $(<"$KAFKA_PID")" || echo reused))"
    else
      echo "kafka:    down"
      rc=1
    fi
  fi
  if selected neo4j; then
    if neo4j_health; then
      echo "neo4j:    up   127.0.0.1:$NEO4J_PORT ($(pid_alive "$NEO4J_PID" "$NEO4J_MAIN" && echo "ours, Neo4j $NEO4J_VERSION pid $(<"$NEO4J_PID")" || echo reused))"
    else
      echo "neo4j:    down"
      rc=1
    fi
  fi
  return "$rc"
}

cmd_env() {
  if selected postgres && postgres_health; then
    echo "export IK_TEST_POSTGRES_URL=postgresql+psycopg://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/ik_test"
  fi
  if selected redis && redis_health; then
    echo "export IK_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
  fi
  if selected s3 && s3_health; then
    echo "export IK_TEST_S3_ENDPOINT=127.0.0.1:$S3_PORT"
    echo "export IK_TEST_S3_ACCESS_KEY=$S3_ACCESS_KEY"
    echo "export IK_TEST_S3_SECRET_KEY=$S3_SECRET_KEY"
  fi
  if selected search && search_health; then
    echo "export IK_TEST_SEARCH_URL=$SEARCH_URL"
  fi
  if selected kafka && kafka_health; then
    echo "export IK_TEST_KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT"
  fi
  if selected neo4j && neo4j_health; then
    echo "export IK_TEST_NEO4J_URL=bolt://127.0.0.1:$NEO4J_PORT"
    echo "export IK_TEST_NEO4J_USER=$NEO4J_USER"
    echo "export IK_TEST_NEO4J_PASSWORD=$NEO4J_PASSWORD"
  fi
}

main() {
  validate_selection
  case ${1:-} in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) cmd_env ;;
    *)
      echo "usage: $0 {up|down|status|env}" >&2
      exit 2
      ;;
  esac
}

main "$@"
