//! Turns the JSON lines of one `bench/run.sh` run into the results table (Markdown).
//!
//! cargo run --release --example bench_report -- RESULTS.jsonl
//!
//! Input lines (one JSON object each, told apart by `scenario`):
//! - `loadgen` output: `fixed-rate`, `max`, `sse`, `streams`, `bigbody`, each with
//!   `target` (`direct`, `relay`, `nginx`, `litellm`) and `round`;
//! - the nginx-upstream set-up (issue 18): `up-fixed-rate` (loadgen) and `up-max {rps,
//!   errors}` (wrk), targets `direct`, `relay`, `nginx`;
//! - `rss-idle {vmrss_kib}`, `rss-streams {vmhwm_kib}`, `rss-bigbody {before_kib,
//!   after_kib}` for the relay, read by the script from `/proc/PID/status`;
//! - `stop-idle {stop_us}`: from SIGTERM to the exit of an idle relay that has served;
//! - `cli {case, hyperfine}` with hyperfine's `--export-json` document;
//! - `wrk {target, rps}`, a cross-check of the max-throughput row;
//! - `skip {target | case, [only: scenario], reason}`: why something was not run;
//! - `meta {date, machine, command, rounds, rate, up_rate, notes}`.
//!
//! Every target is judged on the median over rounds, shown with the spread (min–max).
//! "Added" figures subtract the direct run of the same round. A row whose inputs are
//! missing says "not run" with the recorded reason, never PASS.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

const TARGETS: [&str; 3] = ["relay", "nginx", "litellm"];
const MIB: f64 = 1024.0;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path] = args.as_slice() else {
        eprintln!("usage: bench_report RESULTS.jsonl");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        eprintln!("bench_report: cannot read {path}: {e}");
        std::process::exit(1);
    });
    let lines = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| match serde_json::from_str::<Value>(l) {
            Ok(v) => Some(v),
            Err(e) => {
                eprintln!("bench_report: skipping a bad line ({e}): {l}");
                None
            }
        })
        .collect();
    print!("{}", Report::new(lines).render());
}

/// Median and spread of one figure across rounds.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Stat {
    median: f64,
    min: f64,
    max: f64,
}

impl Stat {
    fn of(values: &[f64]) -> Option<Stat> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Stat {
            median,
            min: v[0],
            max: v[n - 1],
        })
    }
}

#[derive(Clone, Copy)]
enum Unit {
    Micros,
    Millis,
    Rps,
    Kib,
}

fn fmt_value(v: f64, unit: Unit, signed: bool) -> String {
    let sign = if signed && v >= 0.0 { "+" } else { "" };
    match unit {
        Unit::Micros if v.abs() >= 1000.0 => format!("{sign}{:.2} ms", v / 1000.0),
        Unit::Micros => format!("{sign}{v:.0} µs"),
        Unit::Millis => format!("{sign}{v:.1} ms"),
        Unit::Rps => format!("{sign}{v:.0}"),
        Unit::Kib => format!("{sign}{:.1} MiB", v / MIB),
    }
}

fn fmt_spread(v: f64, unit: Unit, signed: bool) -> String {
    let s = fmt_value(v, unit, signed);
    // The spread repeats the unit only when it is not obvious.
    s.trim_end_matches(" µs")
        .trim_end_matches(" ms")
        .trim_end_matches(" MiB")
        .to_owned()
}

fn fmt_stat(s: Stat, unit: Unit, signed: bool) -> String {
    let median = fmt_value(s.median, unit, signed);
    if s.min == s.max {
        return median;
    }
    if signed && s.min < 0.0 {
        let (lo, hi) = (fmt_spread(s.min, unit, true), fmt_spread(s.max, unit, true));
        return format!("{median} ({lo} to {hi})");
    }
    let (lo, hi) = (
        fmt_spread(s.min, unit, false),
        fmt_spread(s.max, unit, false),
    );
    format!("{median} ({lo}–{hi})")
}

/// PASS/FAIL, or why the target could not be judged.
enum Verdict {
    Pass,
    Fail,
    NotRun(String),
}

impl Verdict {
    fn check(ok: bool) -> Self {
        if ok { Verdict::Pass } else { Verdict::Fail }
    }

    fn render(&self, report: &Report) -> String {
        match self {
            Verdict::Pass => "PASS".into(),
            Verdict::Fail => "**FAIL**".into(),
            Verdict::NotRun(why) => report.not_run(why),
        }
    }
}

struct Row {
    metric: String,
    cells: [String; 4], // direct, relay, nginx, litellm
    target: String,
    verdict: Option<Verdict>, // None: context only
}

struct Report {
    lines: Vec<Value>,
    /// Reasons for "not run", printed once under the table and referred to by number.
    footnotes: RefCell<Vec<String>>,
}

impl Report {
    fn new(lines: Vec<Value>) -> Self {
        Self {
            lines,
            footnotes: RefCell::default(),
        }
    }

    /// "not run [n]", where footnote n gives the reason.
    fn not_run(&self, why: &str) -> String {
        let mut notes = self.footnotes.borrow_mut();
        let n = match notes.iter().position(|w| w == why) {
            Some(i) => i + 1,
            None => {
                notes.push(why.to_owned());
                notes.len()
            }
        };
        format!("not run [{n}]")
    }

    fn of<'a>(&'a self, scenario: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.lines.iter().filter(move |l| l["scenario"] == scenario)
    }

    fn meta(&self, key: &str) -> Option<&Value> {
        self.of("meta").map(|m| &m[key]).find(|v| !v.is_null())
    }

    /// Why `target` (or the CLI `case`) has no data, as recorded by the script.
    fn skip_reason(&self, key: &str, name: &str) -> Option<String> {
        self.of("skip")
            .find(|l| l[key] == name && l["only"].is_null())
            .map(|l| l["reason"].as_str().unwrap_or("no reason given").to_owned())
    }

    fn missing(&self, target: &str) -> String {
        self.skip_reason("target", target)
            .unwrap_or_else(|| "no data".into())
    }

    /// Why `target` has no data in `scenario`: a skip of that scenario alone, or of the
    /// whole target.
    fn missing_in(&self, scenario: &str, target: &str) -> String {
        self.of("skip")
            .find(|l| l["target"] == target && l["only"] == scenario)
            .and_then(|l| l["reason"].as_str())
            .map_or_else(|| self.missing(target), str::to_owned)
    }

    /// `field` per round for one scenario and target. A latency run in which no
    /// request succeeded has no latency (its zeros are not figures).
    fn per_round(&self, scenario: &str, target: &str, field: &str) -> BTreeMap<u64, f64> {
        self.of(scenario)
            .filter(|l| l["target"] == target && l["requests"] != 0)
            .filter_map(|l| Some((l["round"].as_u64()?, l[field].as_f64()?)))
            .collect()
    }

    /// `a - b` round by round, both fields of the same line (e.g. through the target
    /// minus direct, as `sse` reports both).
    fn diff(&self, scenario: &str, target: &str, a: &str, b: &str) -> Option<Stat> {
        let b = self.per_round(scenario, target, b);
        let v: Vec<f64> = self
            .per_round(scenario, target, a)
            .into_iter()
            .filter_map(|(round, x)| Some(x - b.get(&round)?))
            .collect();
        Stat::of(&v)
    }

    fn stat(&self, scenario: &str, target: &str, field: &str) -> Option<Stat> {
        let v: Vec<f64> = self
            .per_round(scenario, target, field)
            .into_values()
            .collect();
        Stat::of(&v)
    }

    /// `target`'s figure minus direct's, round by round.
    fn added(&self, scenario: &str, target: &str, field: &str) -> Option<Stat> {
        let direct = self.per_round(scenario, "direct", field);
        let v: Vec<f64> = self
            .per_round(scenario, target, field)
            .into_iter()
            .filter_map(|(round, x)| Some(x - direct.get(&round)?))
            .collect();
        Stat::of(&v)
    }

    fn errors(&self, scenario: &str, target: &str) -> u64 {
        self.of(scenario)
            .filter(|l| l["target"] == target)
            .map(|l| l["errors"].as_u64().unwrap_or(0) + l["failed"].as_u64().unwrap_or(0))
            .sum()
    }

    /// The four cells of a row; `f` formats one target's figure.
    fn cells(&self, scenario: &str, f: impl Fn(&str) -> Option<String>) -> [String; 4] {
        ["direct", "relay", "nginx", "litellm"].map(|t| self.cell(scenario, t, &f))
    }

    /// The cells of a row of the nginx-upstream table (no LiteLLM there).
    fn up_cells(&self, scenario: &str, f: impl Fn(&str) -> Option<String>) -> [String; 4] {
        let [direct, relay, nginx] =
            ["direct", "relay", "nginx"].map(|t| self.cell(scenario, t, &f));
        [direct, relay, nginx, String::new()]
    }

    fn cell(&self, scenario: &str, t: &str, f: &impl Fn(&str) -> Option<String>) -> String {
        match f(t) {
            Some(mut s) => {
                let errors = self.errors(scenario, t);
                if errors > 0 {
                    let _ = write!(s, " ⚠ {errors} errors");
                }
                s
            }
            None if self.errors(scenario, t) > 0 => {
                let first = self
                    .of(scenario)
                    .filter(|l| l["target"] == t)
                    .find_map(|l| l["first_error"].as_str())
                    .unwrap_or("failed");
                let why = format!("{t}: every request of {scenario} failed, e.g. {first}");
                let n = self.not_run(&why).replace("not run", "all failed");
                format!("{n} ⚠ {} errors", self.errors(scenario, t))
            }
            None if t == "direct" => "—".into(),
            None => self.not_run(&format!("{t}: {}", self.missing_in(scenario, t))),
        }
    }

    fn latency_rows(&self, rows: &mut Vec<Row>) {
        let rate = self.meta("rate").and_then(Value::as_f64).unwrap_or(0.0);
        let direct = |field: &str| {
            self.stat("fixed-rate", "direct", field)
                .map(|s| fmt_stat(s, Unit::Micros, false))
        };
        let added_cells = |field: &str| {
            let mut cells = self.cells("fixed-rate", |t| {
                self.added("fixed-rate", t, field)
                    .map(|s| fmt_stat(s, Unit::Micros, true))
            });
            cells[0] = direct(field).unwrap_or_else(|| "not run".into());
            cells
        };
        let relay_ok = self.errors("fixed-rate", "relay") == 0;

        let p50 = self.added("fixed-rate", "relay", "p50_us");
        rows.push(Row {
            metric: format!("Latency p50 at {rate:.0} req/s (added vs direct)"),
            cells: added_cells("p50_us"),
            target: "relay ≤ +50 µs".into(),
            verdict: Some(match p50 {
                Some(s) => Verdict::check(relay_ok && s.median <= 50.0),
                None => Verdict::NotRun(format!("relay: {}", self.missing("relay"))),
            }),
        });

        let relay99 = self.added("fixed-rate", "relay", "p99_us");
        let nginx99 = self.added("fixed-rate", "nginx", "p99_us");
        rows.push(Row {
            metric: format!("Latency p99 at {rate:.0} req/s (added vs direct)"),
            cells: added_cells("p99_us"),
            target: match nginx99 {
                Some(n) => format!(
                    "relay ≤ 2× nginx ({})",
                    fmt_value(2.0 * n.median, Unit::Micros, true)
                ),
                None => "relay ≤ 2× nginx".into(),
            },
            verdict: Some(match (relay99, nginx99) {
                (Some(r), Some(n)) => Verdict::check(relay_ok && r.median <= 2.0 * n.median),
                (None, _) => Verdict::NotRun(format!("relay: {}", self.missing("relay"))),
                (_, None) => Verdict::NotRun(format!("nginx: {}", self.missing("nginx"))),
            }),
        });

        rows.push(Row {
            metric: format!("Latency p99.9 at {rate:.0} req/s (added vs direct)"),
            cells: added_cells("p999_us"),
            target: "context".into(),
            verdict: None,
        });
    }

    fn throughput_row(&self, rows: &mut Vec<Row>) {
        let relay = self.stat("max", "relay", "rps");
        let nginx = self.stat("max", "nginx", "rps");
        rows.push(Row {
            metric: "Max throughput, closed loop (req/s)".into(),
            cells: self.cells("max", |t| {
                self.stat("max", t, "rps")
                    .map(|s| fmt_stat(s, Unit::Rps, false))
            }),
            target: match nginx {
                Some(n) => format!("relay ≥ 0.9× nginx ({:.0})", 0.9 * n.median),
                None => "relay ≥ 0.9× nginx".into(),
            },
            verdict: Some(match (relay, nginx) {
                (Some(r), Some(n)) => {
                    Verdict::check(self.errors("max", "relay") == 0 && r.median >= 0.9 * n.median)
                }
                (None, _) => Verdict::NotRun(format!("relay: {}", self.missing("relay"))),
                (_, None) => Verdict::NotRun(format!("nginx: {}", self.missing("nginx"))),
            }),
        });
    }

    fn streaming_rows(&self, rows: &mut Vec<Row>) {
        let shape = self
            .of("sse")
            .next()
            .map(|l| format!("{} chunks × {} ms", l["chunks"], l["chunk_delay_ms"]))
            .unwrap_or_default();
        let sse_cell = |field: &str| {
            let mut cells = self.cells("sse", |t| {
                self.stat("sse", t, field)
                    .map(|s| fmt_stat(s, Unit::Micros, true))
            });
            cells[0] = "0 (reference)".into();
            cells
        };
        let relay_ok = self.errors("sse", "relay") == 0;
        let ttfb = self.stat("sse", "relay", "added_ttfb_us_p50");
        rows.push(Row {
            metric: format!("SSE time to first event, {shape} (added, median stream)"),
            cells: sse_cell("added_ttfb_us_p50"),
            target: "relay ≤ +1 ms".into(),
            verdict: Some(match ttfb {
                Some(s) => Verdict::check(relay_ok && s.median <= 1000.0),
                None => Verdict::NotRun(format!("relay: {}", self.missing("relay"))),
            }),
        });
        // A chunk's delay is its gap to the previous one beyond the nominal spacing. On a
        // shared 2-core machine the single worst chunk is scheduler noise (direct alone
        // shows several ms), so the target is judged on the p99 chunk, added vs direct in
        // the same round, plus "no chunk held back" (buffering: chunks sent a delay apart
        // arriving together). The worst chunk is shown as context.
        let held = |t: &str| -> u64 {
            self.of("sse")
                .filter(|l| l["target"] == t)
                .map(|l| l["coalesced_chunks"].as_u64().unwrap_or(0))
                .sum()
        };
        let delay_cells = |a: &str, b: &str| {
            let mut cells = self.cells("sse", |t| {
                let s = self.diff("sse", t, a, b)?;
                let mut cell = fmt_stat(s, Unit::Micros, true);
                if held(t) > 0 {
                    let _ = write!(cell, " ⚠ {} chunks held back", held(t));
                }
                Some(cell)
            });
            cells[0] = self
                .stat("sse", "relay", b)
                .map_or("reference".into(), |s| {
                    format!("{} (reference)", fmt_stat(s, Unit::Micros, false))
                });
            cells
        };
        let p99 = self.diff(
            "sse",
            "relay",
            "chunk_delay_us_p99",
            "direct_chunk_delay_us_p99",
        );
        rows.push(Row {
            metric: "SSE chunk delay beyond its spacing, p99 chunk (added vs direct)".into(),
            cells: delay_cells("chunk_delay_us_p99", "direct_chunk_delay_us_p99"),
            target: "relay ≤ +1 ms, no chunk held back".into(),
            verdict: Some(match p99 {
                Some(s) => Verdict::check(relay_ok && held("relay") == 0 && s.median <= 1000.0),
                None => Verdict::NotRun(format!("relay: {}", self.missing("relay"))),
            }),
        });
        rows.push(Row {
            metric: "SSE chunk delay beyond its spacing, worst chunk (added vs direct)".into(),
            cells: delay_cells("chunk_delay_us_max", "direct_chunk_delay_us_max"),
            target: "context (scheduler noise)".into(),
            verdict: None,
        });
    }

    fn streams_rows(&self, rows: &mut Vec<Row>) {
        let completion = |t: &str| -> Option<(u64, u64)> {
            let mut runs = self.of("streams").filter(|l| l["target"] == t).peekable();
            runs.peek()?;
            Some(runs.fold((0, 0), |(done, asked), l| {
                (
                    done + l["completed"].as_u64().unwrap_or(0),
                    asked + l["streams"].as_u64().unwrap_or(0),
                )
            }))
        };
        let n = self
            .of("streams")
            .next()
            .and_then(|l| l["streams"].as_u64())
            .unwrap_or(1000);
        rows.push(Row {
            metric: format!("{n} concurrent SSE streams completed (all rounds)"),
            cells: self.cells("streams", |t| {
                completion(t).map(|(done, asked)| format!("{done}/{asked}"))
            }),
            target: "relay: all".into(),
            verdict: Some(match completion("relay") {
                Some((done, asked)) => Verdict::check(asked > 0 && done == asked),
                None => Verdict::NotRun(format!("relay: {}", self.missing("relay"))),
            }),
        });
        let relay_only = |s: Option<Stat>, unit: Unit, signed: bool| {
            let mut cells = ["—".to_owned(), String::new(), "—".into(), "—".into()];
            cells[1] = match s {
                Some(s) => fmt_stat(s, unit, signed),
                None => self.not_run(&format!("relay: {}", self.missing("relay"))),
            };
            cells
        };
        let judge = |s: Option<Stat>, limit_kib: f64, pick: fn(Stat) -> f64| match s {
            Some(s) => Verdict::check(pick(s) <= limit_kib),
            None => Verdict::NotRun(format!("relay: {}", self.missing("relay"))),
        };
        // Memory limits are ceilings: judged on the worst round.
        let peak = self.stat("rss-streams", "relay", "vmhwm_kib");
        rows.push(Row {
            metric: format!("Relay peak RSS during {n} streams"),
            cells: relay_only(peak, Unit::Kib, false),
            target: "≤ 64 MiB".into(),
            verdict: Some(judge(peak, 64.0 * MIB, |s| s.max)),
        });
        let idle = self.stat("rss-idle", "relay", "vmrss_kib");
        rows.push(Row {
            metric: "Relay idle RSS".into(),
            cells: relay_only(idle, Unit::Kib, false),
            target: "≤ 16 MiB".into(),
            verdict: Some(judge(idle, 16.0 * MIB, |s| s.max)),
        });
        // A ceiling too: judged on the worst round.
        let stop = self.stat("stop-idle", "relay", "stop_us");
        rows.push(Row {
            metric: "Relay exit on SIGTERM when idle".into(),
            cells: relay_only(stop, Unit::Micros, false),
            target: "≤ 100 ms".into(),
            verdict: Some(judge(stop, 100_000.0, |s| s.max)),
        });
        let big: Vec<f64> = self
            .of("rss-bigbody")
            .filter_map(|l| Some(l["after_kib"].as_f64()? - l["before_kib"].as_f64()?))
            .collect();
        let bytes = self
            .of("bigbody")
            .find_map(|l| l["bytes"].as_f64())
            .unwrap_or(5.0 * MIB * MIB);
        rows.push(Row {
            metric: format!(
                "Relay peak RSS added by a {:.0} MiB request body",
                bytes / MIB / MIB
            ),
            cells: relay_only(Stat::of(&big), Unit::Kib, true),
            target: "≤ +2 MiB".into(),
            verdict: Some(judge(Stat::of(&big), 2.0 * MIB, |s| s.max)),
        });
    }

    fn cli_rows(&self, rows: &mut Vec<Row>) {
        for (case, label, limit_ms) in [
            ("version", "`anyray --version`", 5.0),
            ("connect", "`anyray connect --dry-run` (all targets)", 50.0),
            ("doctor", "`anyray doctor` (healthy gateway)", 300.0),
        ] {
            let result = self
                .of("cli")
                .find(|l| l["case"] == case)
                .map(|l| &l["hyperfine"]["results"][0]);
            let times: Option<Vec<f64>> = result.and_then(|r| {
                r["times"].as_array().map(|t| {
                    t.iter()
                        .filter_map(|x| x.as_f64())
                        .map(|s| s * 1e3)
                        .collect()
                })
            });
            let stat = times.as_deref().and_then(Stat::of);
            let why = || {
                self.skip_reason("case", case)
                    .unwrap_or_else(|| "no data".into())
            };
            let runs = times.as_ref().map_or(0, Vec::len);
            let mut cells = ["—".to_owned(), String::new(), "—".into(), "—".into()];
            cells[1] = match stat {
                Some(s) => format!("{} ({runs} runs)", fmt_stat(s, Unit::Millis, false)),
                None => self.not_run(&why()),
            };
            rows.push(Row {
                metric: format!("{label}, wall time"),
                cells,
                target: format!("≤ {limit_ms:.0} ms"),
                verdict: Some(match stat {
                    Some(s) => Verdict::check(s.median <= limit_ms),
                    None => Verdict::NotRun(why()),
                }),
            });
        }
    }

    /// The nginx-upstream set-up: the relay against nginx as proxies, one worker each,
    /// in front of an upstream faster than either (issue 18).
    fn upstream_rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        let missing = |t: &str, scenario: &str| {
            Verdict::NotRun(format!("{t}: {}", self.missing_in(scenario, t)))
        };
        let (relay, nginx) = (
            self.stat("up-max", "relay", "rps"),
            self.stat("up-max", "nginx", "rps"),
        );
        rows.push(Row {
            metric: "Max throughput, closed loop (req/s)".into(),
            cells: self.up_cells("up-max", |t| {
                self.stat("up-max", t, "rps")
                    .map(|s| fmt_stat(s, Unit::Rps, false))
            }),
            target: match nginx {
                Some(n) => format!("relay ≥ 1.0× nginx ({:.0})", n.median),
                None => "relay ≥ 1.0× nginx".into(),
            },
            verdict: Some(match (relay, nginx) {
                (Some(r), Some(n)) => {
                    Verdict::check(self.errors("up-max", "relay") == 0 && r.median >= n.median)
                }
                (None, _) => missing("relay", "up-max"),
                (_, None) => missing("nginx", "up-max"),
            }),
        });
        // Neighbours on a shared VM move whole rounds: the ratio within each round.
        let nginx_rounds = self.per_round("up-max", "nginx", "rps");
        let ratios: Vec<f64> = self
            .per_round("up-max", "relay", "rps")
            .into_iter()
            .filter_map(|(round, r)| Some(r / nginx_rounds.get(&round)?))
            .collect();
        let ratio = Stat::of(&ratios).map_or("—".into(), |s| {
            if s.min == s.max {
                format!("{:.2}×", s.median)
            } else {
                format!("{:.2}× ({:.2}–{:.2})", s.median, s.min, s.max)
            }
        });
        rows.push(Row {
            metric: "Relay ÷ nginx throughput, round by round".into(),
            cells: ["—".into(), ratio, "—".into(), String::new()],
            target: "context".into(),
            verdict: None,
        });
        let rate = self.meta("up_rate").and_then(Value::as_f64).unwrap_or(0.0);
        let relay_ok = self.errors("up-fixed-rate", "relay") == 0;
        for (field, label, judged) in [
            ("p50_us", "p50", true),
            ("p99_us", "p99", true),
            ("p999_us", "p99.9", false),
        ] {
            let mut cells = self.up_cells("up-fixed-rate", |t| {
                self.added("up-fixed-rate", t, field)
                    .map(|s| fmt_stat(s, Unit::Micros, true))
            });
            cells[0] = self
                .stat("up-fixed-rate", "direct", field)
                .map_or("not run".into(), |s| fmt_stat(s, Unit::Micros, false));
            let (r, n) = (
                self.added("up-fixed-rate", "relay", field),
                self.added("up-fixed-rate", "nginx", field),
            );
            rows.push(Row {
                metric: format!("Latency {label} at {rate:.0} req/s (added vs direct)"),
                cells,
                target: if judged {
                    match n {
                        Some(n) => format!(
                            "relay ≤ nginx ({})",
                            fmt_value(n.median, Unit::Micros, true)
                        ),
                        None => "relay ≤ nginx".into(),
                    }
                } else {
                    "context".into()
                },
                verdict: judged.then(|| match (r, n) {
                    (Some(r), Some(n)) => Verdict::check(relay_ok && r.median <= n.median),
                    (None, _) => missing("relay", "up-fixed-rate"),
                    (_, None) => missing("nginx", "up-fixed-rate"),
                }),
            });
        }
        rows
    }

    fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        self.latency_rows(&mut rows);
        self.throughput_row(&mut rows);
        self.streaming_rows(&mut rows);
        self.streams_rows(&mut rows);
        self.cli_rows(&mut rows);
        rows
    }

    fn render(&self) -> String {
        let mut out = String::new();
        let meta = |k: &str| {
            self.meta(k)
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned()
        };
        let rounds = self.meta("rounds").and_then(Value::as_u64).unwrap_or(0);
        let _ = writeln!(out, "Measured {} on {}.", meta("date"), meta("machine"));
        let plural = if rounds == 1 { "" } else { "s" };
        let _ = writeln!(
            out,
            "Command: `{}` ({rounds} round{plural} per scenario).",
            meta("command")
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| Scenario | direct | anyray relay | nginx | LiteLLM | target | result |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|");
        let mut rows = self.rows();
        for r in &rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                r.metric,
                r.cells[0],
                r.cells[1],
                r.cells[2],
                r.cells[3],
                r.target,
                r.verdict.as_ref().map_or("—".into(), |v| v.render(self))
            );
        }
        if self.of("up-max").next().is_some() || self.of("up-fixed-rate").next().is_some() {
            let up = self.upstream_rows();
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "With nginx as the upstream (a fixed JSON answer), one worker for the relay \
                 and for nginx:"
            );
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "| Scenario | direct | anyray relay | nginx | target | result |"
            );
            let _ = writeln!(out, "|---|---|---|---|---|---|");
            for r in &up {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    r.metric,
                    r.cells[0],
                    r.cells[1],
                    r.cells[2],
                    r.target,
                    r.verdict.as_ref().map_or("—".into(), |v| v.render(self))
                );
            }
            rows.extend(up);
        }
        let count = |f: fn(&Verdict) -> bool| {
            rows.iter()
                .filter(|r| r.verdict.as_ref().is_some_and(f))
                .count()
        };
        let _ = writeln!(out);
        let footnotes = self.footnotes.borrow();
        for (i, why) in footnotes.iter().enumerate() {
            let _ = writeln!(out, "[{}] {why}  ", i + 1);
        }
        if !footnotes.is_empty() {
            let _ = writeln!(out);
        }
        let _ = writeln!(
            out,
            "{} PASS, {} FAIL, {} not run.",
            count(|v| matches!(v, Verdict::Pass)),
            count(|v| matches!(v, Verdict::Fail)),
            count(|v| matches!(v, Verdict::NotRun(_)))
        );
        let wrk: Vec<String> = ["direct"]
            .into_iter()
            .chain(TARGETS)
            .filter_map(|t| {
                let s = self.stat("wrk", t, "rps")?;
                Some(format!("{t} {}", fmt_value(s.median, Unit::Rps, false)))
            })
            .collect();
        if !wrk.is_empty() {
            let _ = writeln!(
                out,
                "\nCross-check with wrk (closed loop, req/s): {}.",
                wrk.join(", ")
            );
        }
        if let Some(notes) = self.meta("notes").and_then(Value::as_array) {
            let _ = writeln!(out);
            for n in notes.iter().filter_map(Value::as_str) {
                let _ = writeln!(out, "- {n}");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(lines: Vec<Value>) -> String {
        Report::new(lines).render()
    }

    fn row<'a>(table: &'a str, starts: &str) -> &'a str {
        table
            .lines()
            .find(|l| l.starts_with(&format!("| {starts}")))
            .unwrap_or_else(|| panic!("no row {starts} in\n{table}"))
    }

    #[test]
    fn median_and_spread() {
        let s = Stat::of(&[3.0, 1.0, 2.0, 10.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (2.5, 1.0, 10.0));
        assert_eq!(Stat::of(&[]), None);
    }

    #[test]
    fn added_latency_is_judged_round_by_round_against_direct() {
        let mut lines = vec![json!({"scenario": "meta", "rate": 2000})];
        for (round, direct, relay, nginx) in [(1, 100.0, 130.0, 120.0), (2, 110.0, 150.0, 125.0)] {
            for (t, p) in [("direct", direct), ("relay", relay), ("nginx", nginx)] {
                lines.push(
                    json!({"scenario": "fixed-rate", "target": t, "round": round,
                                  "p50_us": p, "p99_us": p * 2.0, "p999_us": p * 3.0, "errors": 0}),
                );
            }
        }
        let table = report(lines);
        let p50 = row(&table, "Latency p50");
        assert!(p50.contains("+35 µs (30–40)"), "{p50}");
        assert!(p50.ends_with("| PASS |"), "{p50}");
        // relay adds 70 µs at p99, nginx 35: exactly 2×, still a pass.
        assert!(row(&table, "Latency p99 ").ends_with("| PASS |"));
        assert!(row(&table, "Latency p99.9").ends_with("| — |"));
        assert!(row(&table, "Latency p99 ").contains("| not run [1] |")); // litellm column
        assert!(table.contains("[1] litellm: no data"), "{table}");
    }

    #[test]
    fn missing_relay_is_not_run_with_the_reason_never_pass() {
        let table = report(vec![
            json!({"scenario": "skip", "target": "relay", "reason": "gateway not implemented"}),
            json!({"scenario": "max", "target": "nginx", "round": 1, "rps": 9000.0, "errors": 0}),
            json!({"scenario": "skip", "case": "doctor", "reason": "doctor exited 2"}),
        ]);
        assert!(!table.contains("| PASS |"), "{table}");
        assert!(row(&table, "Max throughput").contains("| not run [1] |"));
        assert!(
            table.contains("[1] relay: gateway not implemented"),
            "{table}"
        );
        let doctor = row(&table, "`anyray doctor`");
        let n = doctor
            .rsplit("not run [")
            .next()
            .unwrap()
            .trim_end_matches("] |");
        assert!(table.contains(&format!("[{n}] doctor exited 2")), "{table}");
    }

    #[test]
    fn streaming_is_judged_on_the_p99_chunk_and_held_back_chunks_fail() {
        let sse = |t: &str, round: u64, ttfb: f64, p99: f64, held: u64| {
            json!({"scenario": "sse", "target": t, "round": round, "chunks": 50,
                   "chunk_delay_ms": 10, "added_ttfb_us_p50": ttfb,
                   "chunk_delay_us_p99": p99, "direct_chunk_delay_us_p99": 900.0,
                   "chunk_delay_us_max": 9000.0, "direct_chunk_delay_us_max": 2000.0,
                   "coalesced_chunks": held, "errors": 0})
        };
        let table = report(vec![
            sse("relay", 1, 40.0, 1020.0, 0),
            sse("relay", 2, 60.0, 980.0, 0),
            sse("nginx", 1, 30.0, 900.0, 4),
        ]);
        let ttfb = row(&table, "SSE time to first event, 50 chunks × 10 ms");
        assert!(
            ttfb.contains("+50 µs (40–60)") && ttfb.ends_with("| PASS |"),
            "{ttfb}"
        );
        let p99 = row(&table, "SSE chunk delay beyond its spacing, p99");
        assert!(
            p99.contains("| 900 µs (reference) | +100 µs (80–120) |"),
            "{p99}"
        );
        assert!(p99.contains("+0 µs ⚠ 4 chunks held back"), "{p99}");
        assert!(p99.ends_with("| PASS |"), "{p99}");
        // The worst chunk (+7 ms here) is context, not judged.
        let worst = row(&table, "SSE chunk delay beyond its spacing, worst");
        assert!(
            worst.contains("+7.00 ms") && worst.ends_with("| — |"),
            "{worst}"
        );
        let table = report(vec![sse("relay", 1, 40.0, 900.0, 2)]);
        assert!(row(&table, "SSE chunk delay beyond its spacing, p99").ends_with("**FAIL** |"));
    }

    #[test]
    fn a_target_that_answered_nothing_shows_its_errors_not_zeros() {
        let mut lines = vec![];
        for (t, p50, requests, errors) in [("direct", 100.0, 500, 0), ("litellm", 0.0, 0, 900)] {
            lines.push(json!({"scenario": "fixed-rate", "target": t, "round": 1, "p50_us": p50,
                              "p99_us": p50, "p999_us": p50, "requests": requests, "errors": errors,
                              "first_error": if errors > 0 { json!("request timed out") } else { json!(null) }}));
        }
        let table = report(lines);
        let p50 = row(&table, "Latency p50");
        assert!(p50.contains("| all failed [3] ⚠ 900 errors |"), "{p50}");
        assert!(!p50.contains("-100"), "{p50}");
        let note = "[3] litellm: every request of fixed-rate failed, e.g. request timed out";
        assert!(table.contains(note), "{table}");
    }

    #[test]
    fn errors_fail_a_target_and_memory_is_judged_on_the_worst_round() {
        let table = report(vec![
            json!({"scenario": "streams", "target": "relay", "round": 1, "streams": 1000, "completed": 999, "failed": 1}),
            json!({"scenario": "rss-streams", "target": "relay", "round": 1, "vmhwm_kib": 20000}),
            json!({"scenario": "rss-streams", "target": "relay", "round": 2, "vmhwm_kib": 70000}),
            json!({"scenario": "rss-bigbody", "target": "relay", "round": 1, "before_kib": 9000, "after_kib": 10000}),
        ]);
        let streams = row(&table, "1000 concurrent");
        assert!(streams.contains("999/1000 ⚠ 1 errors"), "{streams}");
        assert!(streams.ends_with("**FAIL** |"));
        assert!(row(&table, "Relay peak RSS during").ends_with("**FAIL** |"));
        assert!(row(&table, "Relay peak RSS added").contains("+1.0 MiB"));
        assert!(row(&table, "Relay peak RSS added").ends_with("| PASS |"));
    }

    #[test]
    fn the_nginx_upstream_table_judges_the_relay_against_nginx() {
        let mut lines = vec![json!({"scenario": "meta", "rate": 2000, "up_rate": 10000})];
        for (round, direct, relay, nginx) in [
            (1, 90000.0, 40000.0, 36000.0),
            (2, 80000.0, 30000.0, 33000.0),
        ] {
            for (t, rps) in [("direct", direct), ("relay", relay), ("nginx", nginx)] {
                lines.push(json!({"scenario": "up-max", "target": t, "round": round, "rps": rps, "errors": 0}));
            }
            for (t, p50, p99) in [
                ("direct", 100.0, 300.0),
                ("relay", 130.0, 420.0),
                ("nginx", 140.0, 400.0),
            ] {
                lines.push(
                    json!({"scenario": "up-fixed-rate", "target": t, "round": round,
                                  "p50_us": p50, "p99_us": p99, "p999_us": p99 * 2.0, "errors": 0}),
                );
            }
        }
        let table = report(lines);
        assert!(table.contains("With nginx as the upstream"), "{table}");
        let max = row(&table, "Max throughput, closed loop (req/s) | 85000");
        // Medians: relay 35000, nginx 34500.
        assert!(
            max.contains("| 35000 (30000–40000) | 34500 (33000–36000) |"),
            "{max}"
        );
        assert!(
            max.ends_with("| relay ≥ 1.0× nginx (34500) | PASS |"),
            "{max}"
        );
        let ratio = row(&table, "Relay ÷ nginx");
        assert!(ratio.contains("1.01× (0.91–1.11)"), "{ratio}");
        let p50 = row(&table, "Latency p50 at 10000 req/s");
        assert!(
            p50.contains("| 100 µs | +30 µs | +40 µs |") && p50.ends_with("| PASS |"),
            "{p50}"
        );
        let p99 = row(&table, "Latency p99 at 10000 req/s");
        assert!(
            p99.ends_with("| relay ≤ nginx (+100 µs) | **FAIL** |"),
            "{p99}"
        );
        assert!(row(&table, "Latency p99.9 at 10000").ends_with("| context | — |"));
    }

    #[test]
    fn an_idle_relay_must_exit_within_100_ms_of_sigterm_in_every_round() {
        let stop = |round: u64, us: f64| json!({"scenario": "stop-idle", "target": "relay", "round": round, "stop_us": us});
        let table = report(vec![stop(1, 9000.0), stop(2, 12000.0)]);
        let line = row(&table, "Relay exit on SIGTERM");
        assert!(line.contains("10.50 ms (9.00–12.00)"), "{line}");
        assert!(line.ends_with("| PASS |"), "{line}");
        let table = report(vec![stop(1, 9000.0), stop(2, 1_100_000.0)]);
        assert!(row(&table, "Relay exit on SIGTERM").ends_with("**FAIL** |"));
    }
}
