//! `cargo xtask build`: builds target/cloudauth.wasm.
//! `cargo xtask tools`: adds the wasm32 target (rustup) and installs the
//! optional wasm-opt (binaryen, from npm).
//! `cargo xtask size`: prints the sizes of the last build.

const USAGE: &str = "usage: cargo xtask [build | tools | size]";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("build") | None => cloudauth_build::build_component().map(|path| {
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            format!("{} ({size} bytes)", path.display())
        }),
        Some("tools") => cloudauth_build::install_tools().map(|tool| format!("wasm-opt: {}", tool.display())),
        Some("size") => cloudauth_build::size_report(),
        Some("help" | "--help" | "-h") => Ok(USAGE.to_string()),
        Some(other) => {
            eprintln!("unknown command {other:?}; {USAGE}");
            std::process::exit(2);
        }
    };
    match result {
        Ok(message) => println!("{}", message.trim_end()),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
