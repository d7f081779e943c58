//! Git's credential-helper protocol (`git help credential`), so that `git`
//! gets HTTPS credentials from cloudauth: Azure DevOps and AWS CodeCommit
//! from the host's identity (the process environment), and GitHub or
//! GitHub Enterprise from a GitHub App.
//!
//! Configure it with `git config credential.helper '!cloudauth-host
//! git-credential --github-app-id 123 --github-app-installation-owner
//! my-org --github-app-private-key-file /etc/app.pem'`. Git runs `get` with
//! `protocol=https`, `host=…` (and `path=…` with `credential.useHttpPath`)
//! on stdin and reads `username=`, `password=` and `password_expiry_utc=`.
//! The flags are Flux's secret keys (`githubAppID`,
//! `githubAppInstallationID`, `githubAppInstallationOwner`,
//! `githubAppPrivateKey`, `githubAppBaseURL`); they may also come from the
//! environment as `GITHUB_APP_ID`, `GITHUB_APP_INSTALLATION_ID`,
//! `GITHUB_APP_INSTALLATION_OWNER`, `GITHUB_APP_PRIVATE_KEY_FILE` and
//! `GITHUB_APP_BASE_URL`. The key is read here, by the host, and handed to
//! the component as a secret value.
//!
//! cloudauth stores nothing: `store` and `erase` succeed without doing
//! anything, as git expects of a helper that cannot store.

use std::io::{Read, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};
use cloudauth_runtime::api::session::{Credentials, GithubApp, Target};

use crate::flow::{self, FlowError, Identity, TokenFiles};

const USAGE: &str = "usage: cloudauth-host git-credential [--github-app-id ID] [--github-app-installation-id ID | --github-app-installation-owner OWNER] [--github-app-private-key-file PATH] [--github-app-base-url URL] <get|store|erase>";

/// Longest stdin accepted.
const MAX_INPUT: u64 = 64 * 1024;

/// The GitHub App flags (or their environment variables).
#[derive(Debug, Default, PartialEq, Eq)]
struct AppArgs {
    app_id: Option<String>,
    installation_id: Option<String>,
    installation_owner: Option<String>,
    private_key_file: Option<String>,
    base_url: Option<String>,
}

impl AppArgs {
    fn is_set(&self) -> bool {
        self.app_id.is_some()
            || self.installation_id.is_some()
            || self.installation_owner.is_some()
            || self.private_key_file.is_some()
            || self.base_url.is_some()
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Args {
    action: String,
    app: AppArgs,
}

fn parse_args(args: &[String], env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Args> {
    let mut app = AppArgs {
        app_id: env("GITHUB_APP_ID"),
        installation_id: env("GITHUB_APP_INSTALLATION_ID"),
        installation_owner: env("GITHUB_APP_INSTALLATION_OWNER"),
        private_key_file: env("GITHUB_APP_PRIVATE_KEY_FILE"),
        base_url: env("GITHUB_APP_BASE_URL"),
    };
    let mut action = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value = |flag: &str| rest.next().cloned().with_context(|| format!("{flag} needs a value"));
        match arg.as_str() {
            "--github-app-id" => app.app_id = Some(value(arg)?),
            "--github-app-installation-id" => app.installation_id = Some(value(arg)?),
            "--github-app-installation-owner" => app.installation_owner = Some(value(arg)?),
            "--github-app-private-key-file" => app.private_key_file = Some(value(arg)?),
            "--github-app-base-url" => app.base_url = Some(value(arg)?),
            flag if flag.starts_with('-') => bail!("unknown option {flag}"),
            word if action.is_none() => action = Some(word.to_owned()),
            word => bail!("unexpected argument {word}"),
        }
    }
    Ok(Args { action: action.context("no action given")?, app })
}

/// The repository URL of git's `get` input: `protocol` and `host` (with
/// `path` when git sends it).
fn url_of(input: &str) -> anyhow::Result<String> {
    let field = |name: &str| {
        input.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix('='))).map(str::to_owned)
    };
    let protocol = field("protocol").context("git sent no protocol")?;
    let host = field("host").context("git sent no host")?;
    if protocol != "https" {
        bail!("cloudauth gives credentials for https only, not {protocol}");
    }
    Ok(match field("path") {
        Some(path) => format!("https://{host}/{}", path.trim_start_matches('/')),
        None => format!("https://{host}/"),
    })
}

/// The session target for `url`: a GitHub App when its flags are given,
/// else the plain Git target (Azure DevOps, CodeCommit).
fn target(url: String, app: &AppArgs, read: &dyn Fn(&str) -> anyhow::Result<String>) -> anyhow::Result<Target> {
    if !app.is_set() {
        return Ok(Target::Git(url));
    }
    let private_key = match &app.private_key_file {
        Some(path) => read(path).with_context(|| format!("cannot read the GitHub App private key file {path}"))?,
        None => String::new(),
    };
    Ok(Target::GithubApp(GithubApp {
        url,
        app_id: app.app_id.clone().unwrap_or_default(),
        installation_id: app.installation_id.clone(),
        installation_owner: app.installation_owner.clone(),
        private_key,
        base_url: app.base_url.clone(),
    }))
}

/// git's answer: `username`, `password`, `password_expiry_utc`.
fn answer(credentials: &Credentials) -> anyhow::Result<String> {
    match credentials {
        Credentials::Git(c) => {
            Ok(format!("username={}\npassword={}\npassword_expiry_utc={}\n", c.username, c.password, c.expires_at))
        }
        _ => bail!("the flow gave credentials that are not for Git"),
    }
}

/// Runs the helper; `args` are the arguments after `git-credential`.
pub fn main(args: &[String]) -> ExitCode {
    let args = match parse_args(args, &|name| std::env::var(name).ok().filter(|v| !v.is_empty())) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("cloudauth-host git-credential: {e:#}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match args.action.as_str() {
        "store" | "erase" => return ExitCode::SUCCESS,
        "get" => {}
        other => {
            eprintln!("cloudauth-host git-credential: unknown action {other:?}\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    let mut input = String::new();
    if let Err(e) = std::io::stdin().take(MAX_INPUT).read_to_string(&mut input) {
        eprintln!("cloudauth-host git-credential: cannot read stdin: {e}");
        return ExitCode::FAILURE;
    }
    let result = url_of(&input)
        .and_then(|url| target(url, &args.app, &|p| Ok(std::fs::read_to_string(p)?)))
        .map_err(FlowError::Host)
        .and_then(|target| {
            let options = flow::options_from_env(&flow::process_env())?;
            flow::credentials(target, Identity::Controller, options, &TokenFiles::default())
        })
        .and_then(|c| answer(&c).map_err(FlowError::Host));
    match result {
        Ok(text) => {
            let mut stdout = std::io::stdout().lock();
            if stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).is_err() {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            // git prints this and goes on to its other helpers or a prompt.
            eprintln!("cloudauth-host git-credential: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudauth_runtime::api::session::GitCredentials;

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn flags_and_environment() {
        let none = |_: &str| None;
        let parsed =
            parse_args(&args(&["--github-app-id", "1", "--github-app-installation-owner", "o", "get"]), &none).unwrap();
        assert_eq!(parsed.action, "get");
        assert_eq!(parsed.app.app_id.as_deref(), Some("1"));
        assert_eq!(parsed.app.installation_owner.as_deref(), Some("o"));
        let env = |name: &str| (name == "GITHUB_APP_ID").then(|| "7".to_owned());
        let parsed = parse_args(&args(&["--github-app-id", "8", "get"]), &env).unwrap();
        assert_eq!(parsed.app.app_id.as_deref(), Some("8"), "a flag wins over the environment");
        assert_eq!(parse_args(&args(&["get"]), &env).unwrap().app.app_id.as_deref(), Some("7"));
        assert!(parse_args(&args(&["--github-app-id"]), &none).is_err());
        assert!(parse_args(&args(&["--verbose", "get"]), &none).is_err());
        assert!(parse_args(&args(&[]), &none).is_err());
    }

    #[test]
    fn reads_gits_input() {
        assert_eq!(url_of("protocol=https\nhost=github.com\npath=o/r.git\n").unwrap(), "https://github.com/o/r.git");
        assert_eq!(url_of("protocol=https\nhost=dev.azure.com\n").unwrap(), "https://dev.azure.com/");
        assert!(url_of("protocol=http\nhost=github.com\n").is_err());
        assert!(url_of("host=github.com\n").is_err());
    }

    #[test]
    fn targets() {
        let url = "https://github.com/o/r.git".to_owned();
        let plain = target(url.clone(), &AppArgs::default(), &|_| unreachable!()).unwrap();
        assert!(matches!(plain, Target::Git(ref u) if *u == url), "{plain:?}");
        let app = AppArgs {
            app_id: Some("1".into()),
            installation_id: Some("2".into()),
            private_key_file: Some("/k.pem".into()),
            ..AppArgs::default()
        };
        let Target::GithubApp(a) = target(url.clone(), &app, &|p| Ok(format!("key of {p}"))).unwrap() else {
            panic!("a GitHub App target")
        };
        assert_eq!((a.app_id.as_str(), a.private_key.as_str()), ("1", "key of /k.pem"));
        assert!(target(url, &app, &|_| bail!("no such file")).is_err());
    }

    #[test]
    fn answers_as_git_reads_it() {
        let c = Credentials::Git(GitCredentials {
            username: "x-access-token".into(),
            password: "ghs_x".into(),
            bearer_token: String::new(),
            expires_at: 1_700_000_000,
        });
        assert_eq!(answer(&c).unwrap(), "username=x-access-token\npassword=ghs_x\npassword_expiry_utc=1700000000\n");
    }
}
