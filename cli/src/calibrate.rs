//! `confiture calibrate`: measure this server's rates for estimates
//! (`confiture.calibrate()`, a few seconds) and show them. Commands that
//! show estimates (`migrate plan`, `migrate dry-run`, `migrate wizard`) run
//! it once per database by themselves when nothing is stored yet.

use crate::connect::Target;
use crate::error::{exit, CliError};
use clap::Args;
use postgres::Client;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// The database (URL or conninfo). Default: the PG* environment variables.
    #[arg(long = "database", short = 'd', env = "DATABASE_URL")]
    pub database: Option<String>,
    /// Output: text, or JSON
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
}

pub fn run(args: CalibrateArgs) -> ExitCode {
    match run_inner(&args) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            e.print();
            ExitCode::from(e.exit_code)
        }
    }
}

fn run_inner(args: &CalibrateArgs) -> Result<(), CliError> {
    let target = Target::new(args.database.clone().unwrap_or_default());
    let mut c = target.connect()?;
    crate::migrate::apply::require_extension(&mut c)?;
    let rows = calibrate(&mut c)?;
    if args.format == "json" {
        let rates: Vec<_> = rows
            .iter()
            .map(|(name, value, unit, at, version)| {
                serde_json::json!({ "name": name, "value": value, "unit": unit,
                                    "measured_at": at, "server_version": version })
            })
            .collect();
        let doc = serde_json::json!({ "command": "calibrate", "database": target.label(), "rates": rates });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        println!("calibrated {} ({} rates):", target.label(), rows.len());
        for (name, value, unit, _, _) in &rows {
            println!("  {name:<26} {value:>12.4} {unit}");
        }
        if let Some((_, _, _, at, version)) = rows.first() {
            println!("measured at {at} on PostgreSQL {version}");
        }
    }
    Ok(())
}

type Rate = (String, f64, String, String, String);

fn calibrate(c: &mut Client) -> Result<Vec<Rate>, CliError> {
    let rows = c
        .query(
            "SELECT name, value, unit, measured_at::text, server_version FROM confiture.calibrate() ORDER BY name",
            &[],
        )
        .map_err(|e| crate::migrate::apply::server_error(exit::FAILED, "calibration failed", &e))?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect())
}

/// Calibrate once per database: when nothing is stored yet, run
/// `confiture.calibrate()` and say so on stderr. A role that may not
/// calibrate (or read the rates) gets the default rates, and estimates say so.
pub fn ensure(c: &mut Client) {
    let stored = c.query_one("SELECT EXISTS (SELECT FROM confiture.calibration)", &[]);
    if let Ok(row) = stored {
        if !row.get::<_, bool>(0) {
            match calibrate(c) {
                Ok(rows) => eprintln!(
                    "confiture: calibrated this server's rates for estimates ({} rates, first use; `confiture calibrate` measures again)",
                    rows.len()
                ),
                Err(e) => eprintln!(
                    "confiture: could not calibrate ({}); estimates use default rates",
                    e.message
                ),
            }
        }
    }
}
