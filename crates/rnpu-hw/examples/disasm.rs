//! Disassemble a raw regcmd buffer: `cargo run -p rnpu-hw --example disasm -- FILE [--json]`.
//!
//! E.g. `FILE = shared/mesa-captures/conv_s5_ic3_oc16_k3_s1_same_wasym/submit0-job0-task0.regcmd.bin`.
//! (The `rnpu disasm` CLI command is the user-facing form; this is the library in isolation.)

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let Some(path) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: disasm FILE [--json]");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(1);
        }
    };
    let d = rnpu_hw::disasm::disassemble(&bytes);
    let text = if json {
        match serde_json::to_string_pretty(&d) {
            Ok(s) => s + "\n",
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(1);
            }
        }
    } else {
        d.to_string()
    };
    // A closed pipe (e.g. `| head`) is not an error worth a panic.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    ExitCode::SUCCESS
}
