#!/usr/bin/env bash
# Side-by-side comparison of twine and Twisted, in one run.
#
# For each suite it runs the Twisted script (with Debian's python3-twisted),
# then the matching Go benchmarks with -count runs, and prints one table:
# the Twisted figure, twine's median over the -count runs, the ratio
# Twisted/twine (how many times less twine spends), and the Go side's
# allocs/op and B/op. Raw outputs are kept in bench/out/ for benchstat.
#
# Usage: bash bench/compare.sh [-count N] [-benchtime T] [-repeat N] [SUITE...]
#   -count N      go test -count (default 5); twine's figure is the median
#   -benchtime T  go test -benchtime (default: go test's own, 1s)
#   -repeat N     runs per Twisted scenario; its median is printed (default 7)
#   SUITE         only these suites (default: every suite whose files exist)
# Environment: PYTHON, the interpreter that has Twisted (default /usr/bin/python3).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# A suite is a Twisted script and the Go package whose benchmarks mirror it.
# The script prints one line per scenario, "name value [unit]" (unit
# defaults to ns/op), and may read BENCH_REPEAT, the runs per scenario.
#        name       Twisted script                      Go package
SUITES=(
	"deferred  bench/twisted/deferred_bench.py   ./deferred/"
)

# One row per scenario: suite, Go benchmark, the Twisted script's scenario
# name ("-" when Twisted has no counterpart) and, optionally, the Go metric
# compared (default ns/op). Both figures must be costs: lower is better.
SCENARIOS=(
	"deferred BenchmarkCreateAddCallbackCallback create_addcallback_callback"
	"deferred BenchmarkChain10                   chain10"
	"deferred BenchmarkErrbackPath               errback_path"
	"deferred BenchmarkAll1000                   gather_results_1000"
	"deferred BenchmarkAsync10Awaits             inline_callbacks_10_awaits"
	"deferred BenchmarkDeepChain1M               -"
)

count=5
benchtime=
repeat=7
only=()
while (($#)); do
	case "$1" in
	-count) count="${2:?compare: -count needs a value}"; shift 2 ;;
	-benchtime) benchtime="${2:?compare: -benchtime needs a value}"; shift 2 ;;
	-repeat) repeat="${2:?compare: -repeat needs a value}"; shift 2 ;;
	-h | -help | --help)
		sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	-*) echo "compare: unknown flag $1 (try -help)" >&2; exit 2 ;;
	*) only+=("$1"); shift ;;
	esac
done

if [[ -d /usr/local/go/bin ]]; then
	PATH="/usr/local/go/bin:$PATH"
fi
PYTHON="${PYTHON:-/usr/bin/python3}"
out=bench/out
mkdir -p "$out"

have_twisted=0
if "$PYTHON" -c 'import twisted' >/dev/null 2>&1; then
	have_twisted=1
	twisted_version="$("$PYTHON" -c 'import twisted; print(twisted.__version__)')"
else
	echo "compare: $PYTHON cannot import twisted, so the Twisted column is skipped." >&2
	echo "compare: install it with: apt-get install python3-twisted (or set PYTHON)." >&2
fi

# rows collects "suite go_bench twisted_value twisted_unit" lines (value "-" if absent)
# gores collects raw "suite benchmark value unit" lines from go test
rows="$out/compare-rows.txt"
gores="$out/compare-go.txt"
: >"$rows"
: >"$gores"

selected() {
	((${#only[@]} == 0)) && return 0
	local s
	for s in "${only[@]}"; do [[ "$s" == "$1" ]] && return 0; done
	return 1
}

ran=0
for suite_row in "${SUITES[@]}"; do
	read -r suite script pkg <<<"$suite_row"
	selected "$suite" || continue
	if [[ ! -d "$pkg" ]] || ! compgen -G "$pkg/*_test.go" >/dev/null; then
		echo "compare: suite $suite: no tests in $pkg yet, skipped." >&2
		continue
	fi

	benches=()
	for row in "${SCENARIOS[@]}"; do
		read -r s bench _ <<<"$row"
		[[ "$s" == "$suite" ]] && benches+=("$bench")
	done
	if ((${#benches[@]} == 0)); then
		echo "compare: suite $suite has no scenario rows, skipped." >&2
		continue
	fi
	ran=$((ran + 1))

	# Twisted side: "name value [unit]" per line; unit defaults to ns/op.
	declare -A tw_value=() tw_unit=()
	rm -f "$out/compare-$suite-twisted.txt"
	if ((have_twisted)) && [[ -f "$script" ]]; then
		# Scripts read BENCH_REPEAT (runs per scenario, median printed) if they honour it.
		echo "== $suite: Twisted $twisted_version, BENCH_REPEAT=$repeat $PYTHON $script" >&2
		BENCH_REPEAT="$repeat" "$PYTHON" "$script" | tee "$out/compare-$suite-twisted.txt" >&2
		while read -r name value unit _; do
			[[ -n "${name:-}" && "$name" != \#* ]] || continue
			tw_value[$name]="$value"
			tw_unit[$name]="${unit:-ns/op}"
		done <"$out/compare-$suite-twisted.txt"
	elif ((have_twisted)); then
		echo "compare: suite $suite: $script does not exist yet, Twisted column empty." >&2
	fi

	# Go side.
	pattern="^($(IFS='|'; echo "${benches[*]}"))\$"
	args=(test -run='^$' -bench="$pattern" -benchmem -count="$count")
	[[ -n "$benchtime" ]] && args+=(-benchtime="$benchtime")
	echo "== $suite: go ${args[*]} $pkg" >&2
	go "${args[@]}" "$pkg" | tee "$out/compare-$suite-go.txt" >&2

	# Benchmark lines: Name-P  N  v1 unit1  v2 unit2 ...
	awk -v suite="$suite" '/^Benchmark/ {
		name = $1; sub(/-[0-9]+$/, "", name)
		for (i = 3; i + 1 <= NF; i += 2) print suite, name, $i, $(i + 1)
	}' "$out/compare-$suite-go.txt" >>"$gores"

	for row in "${SCENARIOS[@]}"; do
		read -r s bench twname gounit _ <<<"$row"
		[[ "$s" == "$suite" ]] || continue
		tv=- tu=-
		if [[ "$twname" != - && -n "${tw_value[$twname]:-}" ]]; then
			tv="${tw_value[$twname]}" tu="${tw_unit[$twname]}"
		elif [[ "$twname" != - && -f "$out/compare-$suite-twisted.txt" ]]; then
			echo "compare: $script printed no scenario named $twname." >&2
		fi
		if ! grep -q "^$bench-[0-9]*[[:space:]]" "$out/compare-$suite-go.txt"; then
			echo "compare: $pkg has no benchmark named $bench." >&2
		fi
		echo "$suite $bench $twname $tv $tu ${gounit:-ns/op}" >>"$rows"
	done
	unset tw_value tw_unit
done

if ((ran == 0)); then
	echo "compare: no suite to run." >&2
	exit 1
fi

echo
if ((have_twisted)); then
	echo "twine vs Twisted $twisted_version: twine is the median of $count go test runs, Twisted the median of $repeat runs."
else
	echo "twine vs Twisted: twine is the median of $count go test runs; Twisted not available ($PYTHON)."
fi
echo "ratio = Twisted / twine (how many times less twine spends)."
echo
awk '
function ns(unit) { # nanoseconds per unit of a time unit such as ns/op, us, ms/op; 0 if not a time
	sub(/\/.*/, "", unit)
	if (unit == "ns") return 1
	if (unit == "us" || unit == "µs") return 1e3
	if (unit == "ms") return 1e6
	if (unit == "s") return 1e9
	return 0
}
function human(v, unit,   f) { # a value in nanoseconds when unit is a time, raw otherwise
	if (v == "-") return "-"
	if (ns(unit) == 0) return sprintf("%.4g %s", v, unit)
	f = v * ns(unit)
	if (f >= 1e9) return sprintf("%.3g s", f / 1e9)
	if (f >= 1e6) return sprintf("%.3g ms", f / 1e6)
	if (f >= 1e3) return sprintf("%.3g us", f / 1e3)
	return sprintf("%.3g ns", f)
}
function median(key,   n, i, j, t, a) {
	n = cnt[key]
	if (n == 0) return "-"
	for (i = 1; i <= n; i++) a[i] = vals[key, i] + 0
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
FNR == NR {
	key = $1 SUBSEP $2 SUBSEP $4
	if (!(key in cnt) && $4 != "ns/op" && $4 != "B/op" && $4 != "allocs/op") extra[$1 SUBSEP $2] = extra[$1 SUBSEP $2] " " $4
	vals[key, ++cnt[key]] = $3
	next
}
{
	suite = $1; bench = $2; tv = $4; tu = $5; gu = $6
	gv = median(suite SUBSEP bench SUBSEP gu)
	ratio = "-"
	if (tv != "-" && gv != "-" && gv > 0) {
		if (ns(tu) && ns(gu)) ratio = sprintf("%.1fx", tv * ns(tu) / (gv * ns(gu)))
		else if (tu == gu) ratio = sprintf("%.1fx", tv / gv)
		else ratio = "units differ"
	}
	allocs = median(suite SUBSEP bench SUBSEP "allocs/op")
	bytes = median(suite SUBSEP bench SUBSEP "B/op")
	other = ""
	n = split(extra[suite SUBSEP bench], units, " ")
	for (i = 1; i <= n; i++) if (units[i] != gu) other = other sprintf("  %.4g %s", median(suite SUBSEP bench SUBSEP units[i]), units[i])
	name = suite "/" bench; sub(/\/Benchmark/, "/", name)
	if (gu != "ns/op") name = name " [" gu "]"
	printf "%-36s %12s %12s %10s %10s %10s%s\n", name, human(tv, tu), human(gv, gu), ratio, allocs, bytes, other
}
BEGIN { printf "%-36s %12s %12s %10s %10s %10s  %s\n", "scenario", "Twisted", "twine", "ratio", "allocs/op", "B/op", "other Go metrics" }
' "$gores" "$rows"
