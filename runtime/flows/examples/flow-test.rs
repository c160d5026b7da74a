//! Run simulator scripts against a plugin without the `courtyard` binary (the same code path
//! as `courtyard flow test`): `cargo run --release -p courtyard-flows --example flow-test --
//! plugin.wasm script.toml [more.toml ...]`. Prints each report; exits 1 when any script fails.

use std::path::Path;
use std::process::ExitCode;

use courtyard_flows::simulator::run_script_file;
use courtyard_flows::{FlowHost, HostConfig};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((wasm, scripts)) = args.split_first() else {
        eprintln!("usage: flow-test <plugin.wasm> <script.toml>...");
        return ExitCode::from(2);
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tokio: {e}");
            return ExitCode::from(2);
        }
    };
    rt.block_on(async {
        let host = match FlowHost::new(HostConfig { max_concurrent_instances: 8, ..HostConfig::default() }) {
            Ok(h) => h,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        };
        let mut failed = 0;
        for script in scripts {
            match run_script_file(&host, Path::new(wasm), Path::new(script)).await {
                Ok(report) if report.passed => println!("PASS {script}"),
                Ok(report) => {
                    failed += 1;
                    println!("FAIL {script}\n{report}\n");
                }
                Err(e) => {
                    failed += 1;
                    println!("ERROR {script}: {e}\n");
                }
            }
        }
        println!("{} passed, {failed} failed", scripts.len() - failed);
        if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
    })
}
