//! `cargo xtask build`: builds target/cloudauth.wasm.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("build") | None => match cloudauth_build::build_component() {
            Ok(path) => {
                let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                println!("{} ({size} bytes)", path.display());
            }
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        },
        Some(other) => {
            eprintln!("unknown command {other:?}; usage: cargo xtask build");
            std::process::exit(2);
        }
    }
}
