use super::*;

/// A fresh directory per call (tests run in parallel and write the same
/// file names).
fn dir() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("cloudauth-proxy-config-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("pass"), "s3cret\n").unwrap();
    std::fs::write(dir.join("token"), "eyJ.x.y\n").unwrap();
    dir
}

fn err(text: &str) -> String {
    format!("{:#}", parse(text, &dir()).unwrap_err())
}

const IDENTITY: &str = r#"
[identities.a]
registry-username = "user-a"
registry-password-file = "pass"
trusted-realm-hosts = ["auth.example.com:8443"]
"#;

#[test]
fn a_mirror_with_an_identity() {
    let config = parse(
        &format!(
            "{IDENTITY}\n[[mirror]]\nlisten = \"127.0.0.1:5000\"\nupstream = \"MyReg.azurecr.io\"\nidentity = \"a\"\n"
        ),
        &dir(),
    )
    .unwrap();
    let m = &config.mirrors[0];
    assert_eq!(m.listen, "127.0.0.1:5000".parse().unwrap());
    assert_eq!(
        m.upstream,
        Upstream { scheme: "https".into(), authority: "myreg.azurecr.io".into(), host: "myreg.azurecr.io".into() }
    );
    assert_eq!(m.identity.registry_username.as_deref(), Some("user-a"));
    assert_eq!(m.identity.registry_password.as_ref().unwrap().expose(), "s3cret");
    assert_eq!(m.identity.trusted_realm_hosts, ["auth.example.com:8443"]);
    // The password never shows in the configuration's Debug form.
    assert!(!format!("{config:?}").contains("s3cret"));
}

#[test]
fn upstreams_with_ports_and_loopback_http() {
    let text = format!(
        "{IDENTITY}\n[[mirror]]\nlisten = \"127.0.0.1:5000\"\nupstream = \"reg.example:8443\"\nidentity = \"a\"\n[[mirror]]\nlisten = \"127.0.0.1:5001\"\nupstream = \"http://127.0.0.1:5002\"\nidentity = \"a\"\n"
    );
    let config = parse(&text, &dir()).unwrap();
    assert_eq!(config.mirrors[0].upstream.base(), "https://reg.example:8443");
    assert_eq!(config.mirrors[0].upstream.host, "reg.example");
    assert_eq!(config.mirrors[1].upstream.base(), "http://127.0.0.1:5002");
}

#[test]
fn clear_errors_name_the_entry_and_field() {
    let mirror = |listen: &str, upstream: &str, identity: &str| {
        err(&format!(
            "{IDENTITY}\n[[mirror]]\nlisten = \"{listen}\"\nupstream = \"{upstream}\"\nidentity = \"{identity}\"\n"
        ))
    };
    assert_eq!(mirror("127.0.0.1:5000", "reg.example", "b"), "mirror[0]: identity: no [identities.b] (known: a)");
    assert_eq!(
        mirror("localhost:5000", "reg.example", "a"),
        "mirror[0]: listen: `localhost:5000` is not an IP address and port such as 127.0.0.1:5000"
    );
    assert_eq!(mirror("127.0.0.1:5000", "reg example", "a"), "mirror[0]: upstream: `reg example` is not a host[:port]");
    assert_eq!(
        mirror("127.0.0.1:5000", "reg.example:0", "a"),
        "mirror[0]: upstream: `reg.example:0`: `0` is not a port"
    );
    assert_eq!(
        mirror("127.0.0.1:5000", "http://reg.example", "a"),
        "mirror[0]: upstream: `http://reg.example`: plain http is only allowed to loopback; credentials would travel in clear"
    );
    assert_eq!(
        mirror("127.0.0.1:5000", "https://u:p@reg.example", "a"),
        "mirror[0]: upstream: `https://u:p@reg.example` must be scheme://host[:port] only, without path, query or user info"
    );
    assert!(
        err("[[mirror]]\nlisten = \"127.0.0.1:1\"\nupstream = \"r\"\nidentity = \"a\"\nport = 3\n")
            .contains("unknown field `port`")
    );
    assert_eq!(err(""), "nothing to run: add a [[mirror]], an [ext-authz] or a [[sigv4]]");
}

#[test]
fn one_listener_per_address() {
    let text = format!(
        "{IDENTITY}\n[[mirror]]\nlisten = \"127.0.0.1:5000\"\nupstream = \"r.example\"\nidentity = \"a\"\n[[sigv4]]\nlisten = \"127.0.0.1:5000\"\nupstream = \"https://s3.us-east-1.amazonaws.com\"\nservice = \"s3\"\nregion = \"us-east-1\"\nidentity = \"a\"\n"
    );
    assert_eq!(err(&text), "sigv4[0]: listen: 127.0.0.1:5000 is already used by mirror[0]");
}

#[test]
fn identities_are_checked_at_start() {
    assert_eq!(
        err("[identities.a]\nregistry-username = \"u\"\n"),
        "identities.a: registry-username is set without registry-password-file"
    );
    assert!(
        err("[identities.a]\nregistry-username = \"u\"\nregistry-password-file = \"missing\"\n")
            .starts_with("identities.a: registry-password-file: cannot read ")
    );
    assert_eq!(
        err("[identities.a]\nenvironment = { AWS_WEB_IDENTITY_TOKEN_FILE = \"/nonexistent/token\" }\n"),
        "identities.a: environment: AWS_WEB_IDENTITY_TOKEN_FILE names /nonexistent/token, which is not a file"
    );
    assert_eq!(
        err("[identities.a]\nenvironment = { aws_region = \"x\" }\n"),
        "identities.a: environment: `aws_region` is not an environment variable name (upper case, digits, `_`)"
    );
    assert_eq!(
        err("[identities.a]\nsts-endpoint = \"http://sts.example\"\n"),
        "identities.a: sts-endpoint: `http://sts.example` must be an https:// URL"
    );
}

#[test]
fn ext_authz_routes() {
    let base = format!("{IDENTITY}\n[ext-authz]\nlisten = \"127.0.0.1:9191\"\npath-prefix = \"/check\"\n");
    let config = parse(
        &format!("{base}[[ext-authz.route]]\nhost = \"API.example\"\nidentity = \"a\"\naccess-token = {{ provider = \"gcp\" }}\n[[ext-authz.route]]\nhost = \"reg.example\"\npath-prefix = \"/v2/\"\nidentity = \"a\"\nregistry = \"reg.example/app\"\n"),
        &dir(),
    )
    .unwrap();
    let e = config.ext_authz.unwrap();
    assert_eq!(e.path_prefix, "/check");
    assert_eq!(e.routes[0].host, "api.example");
    assert_eq!(e.routes[0].path_prefix, "/");
    assert_eq!(e.routes[0].target, RouteTarget::AccessToken { provider: "gcp".into(), scopes: vec![] });
    assert_eq!(e.routes[1].target, RouteTarget::Registry("reg.example/app".into()));

    assert_eq!(
        err(&format!("{base}[[ext-authz.route]]\nhost = \"a.example\"\nidentity = \"a\"\n")),
        "ext-authz: route[0]: give exactly one of `registry`, `access-token` or `cluster`"
    );
    assert_eq!(
        err(&format!(
            "{base}[[ext-authz.route]]\nhost = \"a.example\"\nidentity = \"a\"\naccess-token = {{ provider = \"aws\" }}\n"
        )),
        "ext-authz: route[0]: access-token.provider: aws has no bearer token; use a [[sigv4]] proxy for AWS services"
    );
    assert_eq!(err(&base), "ext-authz: no [[ext-authz.route]]: every check would be denied");
}

#[test]
fn sigv4_defaults_unsigned_payload_for_s3_only() {
    let proxy = |service: &str| {
        format!(
            "{IDENTITY}\n[[sigv4]]\nlisten = \"127.0.0.1:8080\"\nupstream = \"https://{service}.us-east-1.amazonaws.com\"\nservice = \"{service}\"\nregion = \"us-east-1\"\nidentity = \"a\"\n"
        )
    };
    assert!(parse(&proxy("s3"), &dir()).unwrap().sigv4[0].unsigned_payload);
    assert!(!parse(&proxy("sqs"), &dir()).unwrap().sigv4[0].unsigned_payload);
    assert_eq!(err(&proxy("S3")), "sigv4[0]: service: `S3` is not a SigV4 signing name such as s3, sqs or execute-api");
}
