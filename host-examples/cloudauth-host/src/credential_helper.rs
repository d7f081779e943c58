//! The Docker credential-helper protocol, so that docker, skopeo, podman,
//! buildah and crane get registry credentials from cloudauth.
//!
//! A client configured with `"credHelpers": {"<registry>": "cloudauth"}`
//! runs `docker-credential-cloudauth get` with the server URL on stdin and
//! reads `{"ServerURL", "Username", "Secret"}` from stdout
//! (docker/docker-credential-helpers). The credentials come from a session
//! for the registry, as the host's own identity (controller level), with the
//! process environment as the flow's environment: see
//! [`cloudauth_runtime::options_from_env`].
//!
//! cloudauth stores nothing: `store` and `erase` fail with "not
//! implemented", as the ECR helper does, and `list` is `{}`. An error is one
//! line on stdout and exit status 1, as the protocol wants; a registry
//! cloudauth does not serve answers the protocol's "credentials not found"
//! message, so the client goes on without credentials.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::flow::{self, FlowError, Identity, TokenFiles};

/// The executable name clients look up on PATH for the helper `cloudauth`.
pub const EXECUTABLE: &str = "docker-credential-cloudauth";

/// The exact message by which clients recognise "no credentials here".
const NOT_FOUND: &str = "credentials not found in native keychain";

/// Longest stdin accepted: a server URL, or the JSON of `store`.
const MAX_INPUT: u64 = 64 * 1024;

const USAGE: &str = "usage: docker-credential-cloudauth [--token-file PATH] <get|store|erase|list|version>";

/// True when this executable runs under the helper's name (a link to
/// `cloudauth-host` named `docker-credential-cloudauth`).
pub fn invoked_as_helper(argv0: Option<&String>) -> bool {
    argv0
        .map(std::path::Path::new)
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .is_some_and(|name| name == EXECUTABLE || name.strip_suffix(".exe") == Some(EXECUTABLE))
}

/// The helper's command line: `[--token-file PATH] <action>`.
#[derive(Debug, PartialEq, Eq)]
struct Args {
    action: String,
    token_file: Option<PathBuf>,
}

fn parse_args(args: &[String]) -> anyhow::Result<Args> {
    let mut token_file = None;
    let mut action = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--token-file" => token_file = Some(PathBuf::from(rest.next().context("--token-file needs a path")?)),
            flag if flag.starts_with('-') => bail!("unknown option {flag}"),
            word if action.is_none() => action = Some(word.to_owned()),
            word => bail!("unexpected argument {word}"),
        }
    }
    Ok(Args { action: action.context("no action given")?, token_file })
}

/// Runs the helper; `args` are the arguments after the program name (and
/// after `credential-helper` when run as `cloudauth-host credential-helper`).
pub fn main(args: &[String]) -> ExitCode {
    let args = match parse_args(args) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e:#}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut input = String::new();
    let reads_stdin = args.action != "list" && args.action != "version";
    if reads_stdin && let Err(e) = std::io::stdin().take(MAX_INPUT).read_to_string(&mut input) {
        return reply(Err(format!("cannot read stdin: {e}")));
    }
    let tokens = TokenFiles { token_file: args.token_file, service_account_token: None };
    reply(answer(&args.action, &input, |server| get_credentials(server, &tokens)))
}

/// Writes the answer the protocol's way: the JSON or the error line on stdout.
fn reply(answer: Result<String, String>) -> ExitCode {
    let (text, code) = match answer {
        Ok(json) => (json, ExitCode::SUCCESS),
        Err(message) => (message, ExitCode::FAILURE),
    };
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{text}").and_then(|()| stdout.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    code
}

/// Registry credentials as the helper hands them out.
#[derive(Debug, PartialEq, Eq)]
pub struct Login {
    pub username: String,
    pub secret: String,
}

/// The protocol, apart from I/O: the stdout text for an action and its
/// input, `Err` for an error line.
fn answer(action: &str, input: &str, get: impl FnOnce(&str) -> Result<Login, FlowError>) -> Result<String, String> {
    match action {
        "get" => {
            let server = input.trim();
            if server.is_empty() {
                return Err("no server URL on stdin".to_owned());
            }
            match get(server) {
                Ok(login) => Ok(serde_json::json!({
                    "ServerURL": server,
                    "Username": login.username,
                    "Secret": login.secret,
                })
                .to_string()),
                Err(e) if e.is_unsupported() => Err(NOT_FOUND.to_owned()),
                Err(e) => Err(format!("cloudauth: {server}: {e}")),
            }
        }
        "store" | "erase" => Err(format!(
            "not implemented: cloudauth gets credentials from workload identity and does not {action} them"
        )),
        "list" => Ok("{}".to_owned()),
        "version" => Ok(format!("docker-credential-cloudauth {}", env!("CARGO_PKG_VERSION"))),
        other => Err(format!("unknown action {other:?}; {USAGE}")),
    }
}

/// Gets registry credentials for `server` by running a session as the
/// host's own identity.
pub fn get_credentials(server: &str, tokens: &TokenFiles) -> Result<Login, FlowError> {
    let options = flow::options_from_env(&flow::process_env())?;
    let login = flow::registry_credentials(server, Identity::Controller, options, tokens)?;
    Ok(Login { username: login.username, secret: login.password.into_inner() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudauth_runtime::api::types::Error as ComponentError;
    use cloudauth_runtime::{Error, ErrorKind};

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    fn login() -> Result<Login, FlowError> {
        Ok(Login { username: "00000000-0000-0000-0000-000000000000".into(), secret: "refresh-token".into() })
    }

    #[test]
    fn get_prints_the_protocol_json() {
        let out = answer("get", "myregistry.azurecr.io\n", |server| {
            assert_eq!(server, "myregistry.azurecr.io");
            login()
        })
        .unwrap();
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "ServerURL": "myregistry.azurecr.io",
                "Username": "00000000-0000-0000-0000-000000000000",
                "Secret": "refresh-token",
            })
        );
    }

    #[test]
    fn get_without_a_server_is_an_error() {
        assert!(answer("get", " \n", |_| login()).is_err());
    }

    #[test]
    fn unsupported_registries_are_not_found() {
        let err =
            answer("get", "ghcr.io", |_| Err(FlowError::Flow(Error::new(ErrorKind::Unsupported, "no")))).unwrap_err();
        assert_eq!(err, NOT_FOUND);
    }

    #[test]
    fn other_failures_say_what_went_wrong() {
        let err = answer("get", "127.0.0.1:5000", |_| {
            Err(FlowError::Flow(Error::component(ComponentError::InvalidInput(
                "the registry host is not valid".into(),
            ))))
        })
        .unwrap_err();
        assert_eq!(err, "cloudauth: 127.0.0.1:5000: invalid-input: the registry host is not valid");
    }

    #[test]
    fn store_erase_fail_and_list_is_empty() {
        let input = r#"{"ServerURL":"r","Username":"u","Secret":"hunter2"}"#;
        let store = answer("store", input, |_| unreachable!()).unwrap_err();
        assert!(store.starts_with("not implemented"));
        assert!(!store.contains("hunter2"));
        assert!(answer("erase", "r", |_| unreachable!()).is_err());
        assert_eq!(answer("list", "", |_| unreachable!()).unwrap(), "{}");
        assert!(answer("version", "", |_| unreachable!()).unwrap().contains(env!("CARGO_PKG_VERSION")));
        assert!(answer("frobnicate", "", |_| unreachable!()).is_err());
    }

    #[test]
    fn arguments() {
        assert_eq!(parse_args(&args(&["get"])).unwrap(), Args { action: "get".into(), token_file: None });
        assert_eq!(
            parse_args(&args(&["--token-file", "/t", "get"])).unwrap(),
            Args { action: "get".into(), token_file: Some("/t".into()) }
        );
        assert!(parse_args(&args(&[])).is_err());
        assert!(parse_args(&args(&["--token-file"])).is_err());
        assert!(parse_args(&args(&["get", "extra"])).is_err());
        assert!(parse_args(&args(&["--verbose", "get"])).is_err());
    }

    #[test]
    fn recognises_its_executable_name() {
        assert!(invoked_as_helper(Some(&"/usr/local/bin/docker-credential-cloudauth".to_owned())));
        assert!(invoked_as_helper(Some(&"docker-credential-cloudauth".to_owned())));
        assert!(!invoked_as_helper(Some(&"/usr/bin/cloudauth-host".to_owned())));
        assert!(!invoked_as_helper(Some(&"docker-credential-cloudauth-other".to_owned())));
        assert!(!invoked_as_helper(None));
    }
}
