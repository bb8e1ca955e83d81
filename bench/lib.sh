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
