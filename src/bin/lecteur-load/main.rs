//! lecteur-load: N clients, each on its own connection, send a mix of
//! `readers.list`, `vitale.read`, `cps.info` and `cps.sign` to lecteurd for a
//! while, then report throughput, p50/p99 latency per method and overall,
//! errors by kind, and lecteurd's RSS before and after.
//!
//!   lecteur-load --clients 32 --duration 10s --mix list=4,vitale=4,info=2,sign=1
//!
//! By default it starts `lecteurd --no-pcsc --sim` (found beside itself) and
//! counts the APDUs that lecteurd sends meanwhile; `--socket S --pid P` loads
//! a lecteurd already running instead.

mod client;
mod daemon;
mod error;
mod mix;
mod stats;

use clap::Parser;
use error::{DurationError, LoadError};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Barrier;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(version, about = "Load generator for lecteurd (simulated reader)")]
struct Args {
    /// Client connections, one thread each.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// How long to load, e.g. 10s, 500ms, 2m (unless --requests ends it first).
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    duration: Duration,
    /// Stop after this many requests in all (spread over the clients).
    #[arg(long)]
    requests: Option<u64>,
    /// Methods and weights: list, vitale, info, sign.
    #[arg(long, default_value = "list=4,vitale=4,info=2,sign=1")]
    mix: String,
    /// Untimed requests per client before the measure (fills the caches).
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    /// PIN of the simulated CPS (for cps.sign); never printed.
    #[arg(long, default_value = "1234")]
    pin: String,
    /// Load a lecteurd already running on this socket instead of starting one.
    #[arg(long, requires = "pid")]
    socket: Option<PathBuf>,
    /// Its pid, for its RSS.
    #[arg(long)]
    pid: Option<u32>,
    /// Passed to the lecteurd this tool starts (requests per second per connection; 0: no limit).
    #[arg(long)]
    max_rate: Option<u32>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    let (n, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((s, "s"), |i| s.split_at(i));
    let n: f64 = n.parse().map_err(|_| DurationError::Number(s.to_string()))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(DurationError::Unit(s.to_string())),
    };
    Ok(Duration::try_from_secs_f64(secs)?)
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(args) {
        eprintln!("lecteur-load: {e}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<(), LoadError> {
    let mix = mix::Mix::parse(&args.mix)?;
    if args.clients == 0 {
        return Err(LoadError::NoClients);
    }
    let target = match &args.socket {
        Some(s) => daemon::Target::given(s, args.pid),
        None => {
            let extra: Vec<String> = args
                .max_rate
                .map(|r| vec!["--max-rate".into(), r.to_string()])
                .unwrap_or_default();
            daemon::Target::start(&extra)?
        }
    };
    // The simulated cards must be seen before the first request.
    let mut probe = client::Conn::open(&target.socket).map_err(LoadError::Connect)?;
    let seen = Instant::now();
    let vitale = mix::Method::Vitale;
    while probe.call(vitale.name(), &vitale.params("")).is_err() && seen.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(probe);
    // At rest: cards seen, one read done, no client connected.
    std::thread::sleep(Duration::from_millis(100));
    let rss_idle = target.rss_kib();

    let ready = Barrier::new(args.clients + 1);
    let per_client = args.requests.map(|n| n.div_ceil(args.clients as u64));
    let (tally, elapsed, rss_warm, apdus) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..args.clients)
            .map(|i| {
                let plan = client::Plan {
                    socket: &target.socket,
                    mix: &mix,
                    pin: &args.pin,
                    offset: i * 7,
                    warmup: args.warmup,
                    requests: per_client,
                    duration: args.requests.is_none().then_some(args.duration),
                };
                let ready = &ready;
                s.spawn(move || client::run(plan, ready))
            })
            .collect();
        ready.wait();
        let (rss_warm, apdus_before) = (target.rss_kib(), target.apdus());
        let t = Instant::now();
        let mut tally = stats::Tally::default();
        for h in handles {
            tally.merge(h.join().unwrap_or_default());
        }
        let apdus = target.apdus().zip(apdus_before).map(|(a, b)| a - b);
        (tally, t.elapsed(), rss_warm, apdus)
    });
    let rss_end = target.rss_kib();

    let mut all = Vec::new();
    let mut methods = BTreeMap::new();
    for (m, l) in tally.latencies {
        all.extend_from_slice(&l);
        methods.insert(m, stats::summarise(l, elapsed));
    }
    let overall = stats::summarise(all, elapsed);
    let report = json!({
        "clients": args.clients,
        "mix": args.mix,
        "seconds": elapsed.as_secs_f64(),
        "overall": overall,
        "methods": methods,
        "errors": tally.errors,
        "apdus": apdus,
        "started_ms": target.started_in.map(|d| d.as_secs_f64() * 1000.0),
        "rss_kib": { "idle": rss_idle, "after_warmup": rss_warm, "end": rss_end },
    });
    if args.json {
        println!("{report}");
    } else {
        print_text(&report);
    }
    Ok(())
}

fn print_text(r: &serde_json::Value) {
    println!(
        "{} clients, mix {}, {:.1} s",
        r["clients"],
        r["mix"].as_str().unwrap_or(""),
        r["seconds"].as_f64().unwrap_or(0.0)
    );
    let line = |name: &str, s: &serde_json::Value| {
        println!(
            "  {name:<14} {:>9} requests {:>10.0} req/s   p50 {:>7.3} ms   p99 {:>7.3} ms   max {:>8.3} ms",
            s["requests"],
            s["per_second"].as_f64().unwrap_or(0.0),
            s["p50_ms"].as_f64().unwrap_or(0.0),
            s["p99_ms"].as_f64().unwrap_or(0.0),
            s["max_ms"].as_f64().unwrap_or(0.0),
        )
    };
    if let Some(methods) = r["methods"].as_object() {
        for (m, s) in methods {
            line(m, s);
        }
    }
    line("overall", &r["overall"]);
    match r["errors"].as_object() {
        Some(e) if !e.is_empty() => {
            for (kind, n) in e {
                println!("  errors {kind}: {n}");
            }
        }
        _ => println!("  errors: none"),
    }
    if !r["apdus"].is_null() {
        println!("  APDUs sent by lecteurd during the measure: {}", r["apdus"]);
    }
    let kib = |k: &str| {
        r["rss_kib"][k]
            .as_u64()
            .map_or("?".into(), |v| format!("{:.1} MiB", v as f64 / 1024.0))
    };
    println!(
        "  lecteurd RSS: {} idle, {} after warm-up, {} at the end",
        kib("idle"),
        kib("after_warmup"),
        kib("end")
    );
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("x").is_err());
        assert!(parse_duration("5h").is_err());
    }
}
