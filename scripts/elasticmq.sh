#!/usr/bin/env bash
# ElasticMQ: a real SQS server (Scala, JVM) for throughput benchmarks, where moto is too slow.
#   scripts/elasticmq.sh install      fetch the server and its runtime classpath from Maven Central
#                                     (through mvn) into the cache, reuse them when present, and
#                                     print the install directory (last line on stdout)
#   scripts/elasticmq.sh start PORT   run the server in the foreground on 127.0.0.1:PORT
#                                     (installs first if needed)
# The install directory holds lib/*.jar and `launch PORT`, which `start` execs and the pipeline
# bench (crates/phiguard/benches/pipeline.rs) runs directly.
#
# Environment:
#   PHIGUARD_CACHE              cache root (default $HOME/.cache/phiguard)
#   PHIGUARD_ELASTICMQ_VERSION  org.elasticmq:elasticmq-server_2.13 version (default below)
#   ELASTICMQ_JAVA_OPTS         JVM options for the server (default: -Xmx1g -XX:+UseParallelGC)
# Needs `java` (17+) and `mvn` on PATH.
set -euo pipefail

VERSION="${PHIGUARD_ELASTICMQ_VERSION:-1.7.1}"
cache="${PHIGUARD_CACHE:-$HOME/.cache/phiguard}"
dir="$cache/elasticmq/$VERSION"

log() { printf 'elasticmq: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

install() {
  if [[ -f "$dir/.complete" && -x "$dir/launch" ]]; then
    printf '%s\n' "$dir"
    return
  fi
  command -v mvn >/dev/null || die "mvn is needed to fetch ElasticMQ from Maven Central"
  command -v java >/dev/null || die "java (17+) is needed to run ElasticMQ"
  mkdir -p "$dir"
  rm -rf "${dir:?}/lib" "${dir:?}/.complete"
  # A throwaway pom whose only dependency is the server: Maven resolves its runtime classpath.
  cat >"$dir/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>phiguard.local</groupId>
  <artifactId>elasticmq-runtime</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.elasticmq</groupId>
      <artifactId>elasticmq-server_2.13</artifactId>
      <version>$VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
  log "fetching org.elasticmq:elasticmq-server_2.13:$VERSION and its runtime dependencies"
  mvn -q -B -Dstyle.color=never -f "$dir/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$dir/lib" >"$dir/mvn.log" 2>&1 || {
    cat "$dir/mvn.log" >&2
    die "mvn could not fetch elasticmq-server_2.13:$VERSION"
  }
  ls "$dir/lib/elasticmq-server_2.13-$VERSION.jar" >/dev/null 2>&1 || die "server jar missing after mvn"
  cat >"$dir/launch" <<'EOF'
#!/usr/bin/env bash
# launch PORT: ElasticMQ in the foreground on 127.0.0.1:PORT, in memory, stats endpoint off.
# The config is written next to this file (one per port) and the JVM replaces this shell, so
# signalling this process signals the server.
set -euo pipefail
port="${1:?usage: launch PORT}"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$here/conf"
conf="$here/conf/$port.conf"
cat >"$conf" <<CONF
include classpath("application.conf")
node-address {
  protocol = http
  host = "127.0.0.1"
  port = $port
  context-path = ""
}
rest-sqs {
  enabled = true
  bind-port = $port
  bind-hostname = "127.0.0.1"
  sqs-limits = strict
}
rest-stats.enabled = false
generate-node-address = false
aws {
  region = us-east-1
  accountId = 000000000000
}
CONF
# shellcheck disable=SC2086
exec java ${ELASTICMQ_JAVA_OPTS:--Xmx1g -XX:+UseParallelGC} -Dconfig.file="$conf" \
  -cp "$here/lib/*" org.elasticmq.server.Main
EOF
  chmod +x "$dir/launch"
  touch "$dir/.complete"
  log "installed in $dir ($(find "$dir/lib" -name '*.jar' | wc -l) jars)"
  printf '%s\n' "$dir"
}

case "${1:-}" in
  install) install ;;
  start)
    port="${2:-}"
    [[ "$port" =~ ^[0-9]+$ ]] || die "usage: scripts/elasticmq.sh start PORT"
    install >/dev/null
    exec "$dir/launch" "$port"
    ;;
  *)
    echo "usage: scripts/elasticmq.sh install | start PORT" >&2
    exit 2
    ;;
esac
