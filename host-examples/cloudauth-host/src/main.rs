mod credential_helper;
mod kubelet;
mod transport;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if credential_helper::invoked_as_helper(args.first()) {
        return credential_helper::main(args.get(1..).unwrap_or_default());
    }
    match args.get(1).map(String::as_str) {
        Some("credential-helper") => credential_helper::main(args.get(2..).unwrap_or_default()),
        Some("kubelet-credential-provider") => kubelet::main(args.get(2..).unwrap_or_default()),
        _ => {
            eprintln!("usage: cloudauth-host <credential-helper|kubelet-credential-provider> ...");
            std::process::ExitCode::from(2)
        }
    }
}
