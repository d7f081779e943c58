//! The `plan` command, run as a newcomer would run it, on the freshly built
//! component.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

/// Builds the component once for all tests (the same code as `cargo xtask build`).
fn component() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| match cloudauth_build::build_component() {
        Ok(path) => path,
        Err(e) => panic!("building the component failed: {e}"),
    })
}

fn host(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cloudauth-host"))
        .env_remove("CLOUDAUTH_WASM")
        .arg("--component")
        .arg(component())
        .args(args)
        .output()
        .expect("the cloudauth-host binary runs")
}

/// Runs a plan that must succeed and returns its text.
fn plan(args: &[&str]) -> String {
    let output = host(args);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{args:?} failed: {}\n{stdout}", String::from_utf8_lossy(&output.stderr));
    assert_no_secret(&stdout);
    stdout
}

/// Nothing secret-looking and no stand-in value reaches the output.
fn assert_no_secret(out: &str) {
    for leak in [
        "wJalrXUtnFEMI", // the example secret key signs, it is never shown
        "PLACEHOLDER-",  // every stand-in is shown as its <placeholder>
        "placeholder-",
        "999999999999",
    ] {
        assert!(!out.contains(leak), "output contains {leak:?}:\n{out}");
    }
    // A SigV4 signature is 64 hex digits; it is shown as <signature>.
    for line in out.lines().filter(|l| l.contains("Signature=")) {
        assert!(line.contains("Signature=<signature>"), "{line}");
    }
}

fn assert_contains(out: &str, wanted: &str) {
    assert!(out.contains(wanted), "output lacks {wanted:?}:\n{out}");
}

#[test]
fn default_target_is_an_azure_registry() {
    let out = plan(&[]);
    assert_contains(&out, "cloudauth plan for myregistry.azurecr.io/app:v1");
    assert!(
        out.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["provider", "azure"]),
        "no provider line:\n{out}"
    );
    assert_contains(&out, "https://containerregistry.azure.net/.default");
    assert_contains(&out, "api://AzureADTokenExchange");
    // The chain: Entra token request, then the ACR exchange.
    assert_contains(&out, "POST https://login.microsoftonline.com/<tenant-id>/oauth2/v2.0/token");
    assert_contains(&out, "client_assertion = <service-account-token>");
    assert_contains(&out, "POST https://myregistry.azurecr.io/oauth2/exchange");
    assert_contains(&out, "access_token = <entra-access-token>");
    // As in fluxcd/pkg and the session: the exchange names no tenant.
    assert!(!out.contains("tenant = "), "{out}");
    // The IMDS alternative.
    assert_contains(&out, "GET http://169.254.169.254/metadata/identity/oauth2/token?");
    // No command is `plan` with no target, followed by the canned demo.
    assert!(out.starts_with(&plan(&["plan"])), "{out}");
}

#[test]
fn ecr_target_shows_sts_then_signed_ecr_request() {
    let out = plan(&["plan", "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0"]);
    assert_contains(&out, "provider   aws");
    assert_contains(&out, "account    123456789012");
    assert_contains(&out, "region     us-east-1");
    assert_contains(&out, "POST https://sts.us-east-1.amazonaws.com/");
    assert_contains(&out, "WebIdentityToken = <service-account-token>");
    assert_contains(&out, "RoleArn = arn:aws:iam::123456789012:role/<role-name>");
    assert_contains(&out, "POST https://api.ecr.us-east-1.amazonaws.com/");
    assert_contains(&out, "X-Amz-Security-Token: <aws-session-token>");
    assert_contains(&out, "Credential=AKIDEXAMPLE/20240115/us-east-1/ecr/aws4_request");
    let sts = out.find("sts.us-east-1.amazonaws.com").unwrap_or(usize::MAX);
    let ecr = out.find("api.ecr.us-east-1.amazonaws.com").unwrap_or(0);
    assert!(sts < ecr, "STS must come before ECR:\n{out}");
}

#[test]
fn ecr_public_authenticates_in_us_east_1() {
    let out = plan(&["plan", "public.ecr.aws/nginx/nginx:latest"]);
    assert_contains(&out, "POST https://api.ecr-public.us-east-1.amazonaws.com/");
    assert_contains(&out, "RoleArn = arn:aws:iam::<account-id>:role/<role-name>");
}

#[test]
fn ecr_public_dual_stack_host_is_ecr_public() {
    let out = plan(&["plan", "ecr-public.aws.com/x/y"]);
    assert_contains(&out, "provider   aws");
    assert_contains(&out, "POST https://api.ecr-public.us-east-1.amazonaws.com/");
}

#[test]
fn gcp_target_shows_metadata_and_federation() {
    let out = plan(&["plan", "europe-west1-docker.pkg.dev/my-project/repo/app:1"]);
    assert_contains(&out, "provider   gcp");
    assert_contains(
        &out,
        "GET http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token",
    );
    assert_contains(&out, "POST https://sts.googleapis.com/v1/token");
    assert_contains(&out, "<gsa-name>@<project-id>.iam.gserviceaccount.com:generateAccessToken");
    assert_contains(&out, "authorization: Bearer <federated-access-token>");
}

#[test]
fn generic_registry_gets_no_cloud_token() {
    let out = plan(&["plan", "alpine"]);
    assert_contains(&out, "provider   generic");
    assert_contains(&out, "registry   docker.io");
    assert_contains(&out, "no cloud token");
    assert_contains(
        &out,
        "GET https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Falpine%3Apull",
    );
    // Basic auth with the configured credentials, shown redacted.
    assert_contains(&out, "Authorization: Basic");
    assert!(!out.contains("<registry-password>"), "{out}");
    assert!(!out.contains("login.microsoftonline.com") && !out.contains("https://sts."), "{out}");
}

#[test]
fn json_has_the_same_plan() {
    let out = plan(&["--json", "plan", "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"]);
    let plan: serde_json::Value = serde_json::from_str(&out).expect("--json prints JSON");
    assert_eq!(plan["resolved"]["provider"], "aws");
    assert_eq!(plan["resolved"]["aws"]["account_id"], "123456789012");
    let steps = plan["flows"][0]["steps"].as_array().expect("steps");
    let urls: Vec<&str> = steps.iter().filter_map(|s| s["request"]["url"].as_str()).collect();
    assert_eq!(urls, ["https://sts.us-east-1.amazonaws.com/", "https://api.ecr.us-east-1.amazonaws.com/"]);
}

#[test]
fn bad_target_fails_with_the_components_error() {
    let output = host(&["plan", "user:pass@myregistry.azurecr.io/app"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success());
    assert_contains(&stdout, "invalid-input");
}

#[test]
fn missing_component_says_how_to_build_it() {
    let output = Command::new(env!("CARGO_BIN_EXE_cloudauth-host"))
        .args(["--component", "/nonexistent/cloudauth.wasm", "plan"])
        .output()
        .expect("the cloudauth-host binary runs");
    assert!(!output.status.success());
    assert_contains(&String::from_utf8_lossy(&output.stderr), "cargo xtask build");
}

#[test]
fn version_names_the_component_and_its_sha256() {
    let output = host(&["--version"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    let wasm = std::fs::read(component()).unwrap();
    let sha: String = <sha2::Sha256 as sha2::Digest>::digest(&wasm).iter().map(|b| format!("{b:02x}")).collect();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], format!("cloudauth-host {}", env!("CARGO_PKG_VERSION")));
    // The component's version is the version of the WIT package it exports.
    let wit = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../wit/cloudauth.wit")).unwrap();
    let package = wit.lines().find_map(|l| l.strip_prefix("package ")).unwrap().trim_end_matches(';');
    assert_eq!(lines[1], format!("component {package} sha256:{sha}"));
    assert_eq!(lines[2].trim(), format!("({})", component().display()));
    // `-V` is the same; a missing component fails with how to build it.
    assert_eq!(String::from_utf8_lossy(&host(&["-V"]).stdout), stdout);
    let missing = Command::new(env!("CARGO_BIN_EXE_cloudauth-host"))
        .args(["--component", "/nonexistent/cloudauth.wasm", "--version"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert_contains(&String::from_utf8_lossy(&missing.stderr), "cargo xtask build");
}

#[test]
fn linked_as_docker_credential_cloudauth_it_speaks_the_helper_protocol() {
    let dir = std::env::temp_dir().join(format!("cloudauth-cli-link-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("docker-credential-cloudauth");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_cloudauth-host"), &link).unwrap();
    let run = |action: &str| Command::new(&link).arg(action).env("CLOUDAUTH_WASM", component()).output().unwrap();
    let list = run("list");
    assert!(list.status.success());
    assert_eq!(String::from_utf8_lossy(&list.stdout).trim(), "{}");
    let version = run("version");
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("docker-credential-cloudauth {}", env!("CARGO_PKG_VERSION"))
    );
    // A registry cloudauth does not serve: the protocol's not-found answer.
    let mut get = Command::new(&link)
        .arg("get")
        .env("CLOUDAUTH_WASM", component())
        .env_remove("CLOUDAUTH_REGISTRY_USERNAME")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    get.stdin.take().unwrap().write_all(b"ghcr.io\n").unwrap();
    let got = get.wait_with_output().unwrap();
    assert!(!got.status.success());
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), "credentials not found in native keychain");
    std::fs::remove_dir_all(&dir).ok();
}
