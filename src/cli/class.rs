//! `backprop-viz class`: serve a live class until SIGINT/SIGTERM, its JSON
//! line on stdout (`docs/CLASS-CONTRACT.md`); and `backprop-viz
//! class-report`: a class's database read back per question and round.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{fail, Result};
use crate::class::report;
use crate::class::server::{start, ClassConfig};

#[derive(Args)]
pub struct ClassArgs {
    /// The address to listen on: 0.0.0.0 serves the room's network,
    /// 127.0.0.1 only this machine.
    #[arg(long, default_value = "0.0.0.0", value_name = "ADDR")]
    bind: IpAddr,
    /// 0 picks a free port.
    #[arg(long, default_value_t = 8080, value_name = "N")]
    port: u16,
    /// The class's database: created if missing, resumed if it exists.
    #[arg(long, default_value = "class.sqlite", value_name = "FILE")]
    db: PathBuf,
    /// A title kept with a new class (shown by class-report).
    #[arg(long, default_value = "", value_name = "TEXT")]
    title: String,
    /// The browser app's folder [default: site beside the program,
    /// /usr/share/backprop-viz/site, or target/site (web/build.sh)].
    #[arg(long, value_name = "DIR")]
    site: Option<PathBuf>,
}

#[derive(Args)]
pub struct ClassReportArgs {
    /// The class's database (`class --db`); opened read-only.
    #[arg(long, value_name = "FILE")]
    db: PathBuf,
    /// One JSON object on stdout.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// CSV on stdout.
    #[arg(long)]
    csv: bool,
    /// Also every student's answers, with their names.
    #[arg(long)]
    names: bool,
}

pub fn run(args: ClassArgs) -> Result<()> {
    if let Some(site) = &args.site {
        if !site.is_dir() {
            return Err(fail(format!("{}: no such folder", site.display())));
        }
    }
    let class = start(ClassConfig {
        bind: args.bind,
        port: args.port,
        db: args.db,
        title: args.title,
        site: args.site,
    })?;
    // The signals are caught before the line is printed: whoever reads the
    // line may stop the class at once.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let signals = runtime.block_on(async { Signals::new() })?;
    let line = serde_json::to_string(class.info())?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    drop(out);
    runtime.block_on(async {
        tokio::select! {
            () = signals.any() => {}
            // The server stops by itself only when its database fails.
            () = async {
                while class.is_running() {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            } => {}
        }
    });
    class.stop()?;
    Ok(())
}

/// SIGINT and SIGTERM (Ctrl+C elsewhere).
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn any(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        #[cfg(not(unix))]
        {
            let _ = &mut self;
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

pub fn report(args: ClassReportArgs) -> Result<()> {
    let report = report::read(&args.db, args.names)?;
    let text = if args.json {
        format!("{}\n", serde_json::to_string(&report)?)
    } else if args.csv {
        report.to_csv()
    } else {
        report.to_text()
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}
