#!/usr/bin/env bash
# Bounded fuzzing of every parser that reads provider or URL input (fuzz/fuzz_targets/, libFuzzer via
# cargo fuzz, run natively). A panic in the wasm would kill the whole module, so any crash fails this.
# The diff_* targets are differential: json.rs, b64url.rs and url.rs against serde_json, base64 and
# form_urlencoded (dependencies of the fuzz crate only, never of the SDK).
#
# Builds all targets in one `cargo fuzz build`, then runs each from its committed seeds (fuzz/seeds/<target>,
# copied into the working corpus fuzz/corpus/<target>) for a bounded time, prints one summary line per
# target, and exits non-zero on a crash, a timeout or an out-of-memory, naming the input that caused it.
# A stable toolchain is enough: RUSTC_BOOTSTRAP=1 lets cargo fuzz pass its nightly-only flags.
#
# Settings (environment):
#   FUZZ_SECONDS        seconds per target (default 20; 0 = only build and replay the seeds)
#   FUZZ_MAX_LEN        longest input libFuzzer makes (default 4096)
#   FUZZ_LARGE_SECONDS  seconds of the extra jws run with inputs up to 1.2 MB around the 64 KiB token cap
#                       (default 5; 0 skips it)
#   FUZZ_JOBS           targets run side by side (default: the number of cores)
#   FUZZ_TARGETS        space-separated subset of targets (default: all of them)
#   FUZZ_SANITIZER      cargo fuzz --sanitizer (default none: the core has no unsafe code, and
#                       AddressSanitizer runs ~6x slower; "address" works too)
#   FUZZ_TARGET_DIR     cargo's target dir for the fuzz build (default fuzz/target); a directory kept between
#                       runs saves the ~1 min libFuzzer C++ build
#
# Longer runs: FUZZ_SECONDS=600 scripts/fuzz-smoke.sh, or one target without a limit:
#   RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none jwks fuzz/corpus/jwks fuzz/seeds/jwks -- -dict=fuzz/dict/json.dict
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER="${FUZZ_SECONDS:-20}"
MAX_LEN="${FUZZ_MAX_LEN:-4096}"
LARGE_SECONDS="${FUZZ_LARGE_SECONDS:-5}"
JOBS="${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}"
SANITIZER="${FUZZ_SANITIZER:-none}"
TARGET_DIR="${FUZZ_TARGET_DIR:-fuzz/target}"
ALL_TARGETS="callback jws json jwks discovery token config_tx_claims b64url_url session_headers diff_json diff_b64url diff_query"
TARGETS="${FUZZ_TARGETS:-$ALL_TARGETS}"
export RUSTC_BOOTSTRAP=1

dict_of() {
  case "$1" in
    callback | b64url_url | diff_query) echo fuzz/dict/url.dict ;;
    jws) echo fuzz/dict/jws.dict ;;
    diff_b64url) echo fuzz/dict/b64url.dict ;;
    *) echo fuzz/dict/json.dict ;;
  esac
}

# --- tools -------------------------------------------------------------------------------------------
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked || cargo install cargo-fuzz
fi
# libfuzzer-sys compiles libFuzzer's C++ sources.
if ! command -v c++ >/dev/null 2>&1 && ! command -v g++ >/dev/null 2>&1 && ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: installing a C++ compiler (g++)" >&2
  apt-get update -qq && apt-get install -y -qq g++ >/dev/null
fi

# --- build (all targets at once) --------------------------------------------------------------------
triple="$(rustc -vV | sed -n 's/^host: //p')"
build_start=$SECONDS
cargo fuzz build --sanitizer "$SANITIZER" --debug-assertions --target "$triple" --target-dir "$TARGET_DIR"
echo "fuzz: built in $((SECONDS - build_start)) s (sanitizer: $SANITIZER, debug assertions and overflow checks on)"
bin_dir="$TARGET_DIR/$triple/release"

# --- runs ---------------------------------------------------------------------------------------------
log_dir="fuzz/artifacts/logs"
mkdir -p "$log_dir"
tmp="$(mktemp -d)"
trap 'kill $(jobs -rp) 2>/dev/null || true; rm -rf "$tmp"' EXIT

# run_one NAME BINARY SECONDS MAX_LEN DICT CORPUS...: one libFuzzer run, its output in $log_dir/NAME.log,
# its exit status in $log_dir/NAME.rc.
run_one() {
  local name="$1" bin="$2" secs="$3" max_len="$4" dict="$5"
  shift 5
  local limit=(-max_total_time="$secs")
  [ "$secs" -gt 0 ] || limit=(-runs=0)
  mkdir -p "fuzz/artifacts/$name"
  rm -f "$log_dir/$name.rc"
  local rc=0
  timeout -k 10 $((secs + 120)) "$bin" "${limit[@]}" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -dict="$dict" -artifact_prefix="fuzz/artifacts/$name/" "$@" \
    >"$log_dir/$name.log" 2>&1 || rc=$?
  echo "$rc" >"$log_dir/$name.rc"
}

runs=()
for t in $TARGETS; do
  [ -x "$bin_dir/$t" ] || { echo "fuzz: no target named $t (targets: $ALL_TARGETS)" >&2; exit 2; }
  mkdir -p "fuzz/corpus/$t"
  cp -f fuzz/seeds/"$t"/* "fuzz/corpus/$t/"
  runs+=("$t|$SECONDS_PER|$MAX_LEN|fuzz/corpus/$t")
done

# The jws target once more with large inputs: a token of exactly 64 KiB (the cap, parsed in full), one
# byte over, and 1.2 MB (both refused unread). Generated here rather than committed.
if [ "$LARGE_SECONDS" -gt 0 ] && [[ " $TARGETS " == *" jws "* ]]; then
  large="$tmp/jws-large"
  mkdir -p "$large"
  b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
  header="$(printf '{"alg":"RS256","typ":"JWT"}' | b64url)"
  sig="$(head -c 256 /dev/zero | tr '\0' '\1' | b64url)"
  # header '.' payload '.' signature, exactly 65536 characters: the payload's length decides its JSON's.
  p_len=$((65536 - ${#header} - ${#sig} - 2))
  json_len=$((p_len / 4 * 3 + (p_len % 4 > 1 ? p_len % 4 - 1 : 0)))
  payload="$( { printf '{"sub":"a","x":"'; head -c $((json_len - 18)) /dev/zero | tr '\0' a; printf '"}'; } | b64url)"
  token="$header.$payload.$sig"
  [ "${#token}" -eq 65536 ] || echo "fuzz: warning: the at-cap jws seed is ${#token} bytes, not 65536" >&2
  printf '%s' "$token" >"$large/at-cap"
  printf '%s' "${token}A" >"$large/over-cap"
  { printf '%s.' "$header"; head -c 1199000 /dev/zero | tr '\0' A; printf '.%s' "$sig"; } >"$large/huge"
  runs+=("jws-large|$LARGE_SECONDS|1200000|$large fuzz/seeds/jws")
fi

echo "fuzz: ${#runs[@]} runs of ${SECONDS_PER} s (jws-large: ${LARGE_SECONDS} s), max_len $MAX_LEN, $JOBS at a time"
for r in "${runs[@]}"; do
  IFS='|' read -r name secs max_len corpus <<<"$r"
  t="${name%-large}"
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  extra=()
  [ "$name" = "$t" ] || extra=(-len_control=0)
  run_one "$name" "$bin_dir/$t" "$secs" "$max_len" "$(dict_of "$t")" "${extra[@]}" $corpus &
done
wait || true

# --- summary -----------------------------------------------------------------------------------------
failed=0
for r in "${runs[@]}"; do
  IFS='|' read -r name secs _ _ <<<"$r"
  t="${name%-large}"
  log="$log_dir/$name.log"
  rc="$(cat "$log_dir/$name.rc" 2>/dev/null || echo '?')"
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  per_s="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  units="$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' "$log" | tail -1)"
  artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)"
  if [ "$rc" = 0 ] && [ -z "$artifact" ]; then
    printf 'fuzz: %-17s ok     %10s execs in %s s (%s/s), corpus %s\n' "$name" "${execs:-?}" "$secs" "${per_s:-?}" "${units:-?}"
  else
    failed=1
    printf 'fuzz: %-17s FAILED %10s execs (exit %s), input: %s\n' "$name" "${execs:-?}" "$rc" "${artifact:-none written}"
    echo "----- from $log -----"
    # The panic message (or libFuzzer's own report), without the stack trace.
    awk '/panicked at/ {n = 4} /stack backtrace:/ {n = 0} n > 0 {print; n--}
         /^(==[0-9]+== ERROR|SUMMARY|artifact_prefix|Base64)/ {print}' "$log" | head -40 || true
    [ -z "$artifact" ] || echo "reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer $SANITIZER $t $artifact"
    echo "-----"
  fi
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz: FAILED (logs in $log_dir/)"
  exit 1
fi
echo "fuzz: all runs passed"
