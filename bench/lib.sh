# Shared by the bench scripts (sourced after they parse their arguments): builds the release
# executables unless BUILD=0, puts them first on PATH, makes git behave the same for everyone,
# and gives `now` and `secs START END` (SECS_DIGITS decimals, default 3).
LIB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ((${BUILD:-1})); then
  (cd "$LIB_ROOT" && cargo build --release --quiet)
fi
export PATH="$LIB_ROOT/target/release:$PATH"
export LC_ALL=C TZ=UTC GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" -v d="${SECS_DIGITS:-3}" 'BEGIN { printf ("%." d "f"), b - a }'; }

# start_registry DIR: a docker-registry on 127.0.0.1 with a free port, its storage under DIR;
# sets REGISTRY (host:port) once it answers. stop_registries stops every one started.
REGISTRY_PIDS=()
start_registry() {
  local dir=$1 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  REGISTRY=127.0.0.1:$port
  mkdir -p "$dir"
  cat >"$dir/registry.yml" <<YML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $dir/storage}}
http: {addr: $REGISTRY}
YML
  docker-registry serve "$dir/registry.yml" >/dev/null 2>&1 &
  REGISTRY_PIDS+=("$!")
  for _ in $(seq 100); do curl -fs "http://$REGISTRY/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
}
stop_registries() {
  ((${#REGISTRY_PIDS[@]})) && kill "${REGISTRY_PIDS[@]}" 2>/dev/null
  return 0
}
