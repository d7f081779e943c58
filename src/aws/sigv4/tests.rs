//! Known vectors (AWS documentation, the AWS SigV4 suites, botocore-signed
//! conformance cases) and the inputs the signer must refuse.

use super::*;

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// 2015-08-30T12:36:00Z, the time of the AWS examples and suites.
const SUITE_TIME: i64 = 1_440_938_160;
/// The session token of the suites' `post-sts-token` cases.
const STS_TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

fn credentials(token: Option<&str>) -> AwsCredentials {
    AwsCredentials {
        access_key_id: AKID.to_owned(),
        secret_access_key: Secret::new(SECRET),
        session_token: token.map(Secret::new),
        expires_at: None,
    }
}

fn params<'a>(credentials: &'a AwsCredentials, service: &'a str) -> SigningParams<'a> {
    SigningParams {
        credentials,
        region: "us-east-1",
        service,
        now: SUITE_TIME,
        normalize_path: true,
        sign_body_header: false,
        unsigned_headers: &[],
    }
}

fn header<'a>(request: &'a HttpRequest, name: &str) -> Vec<&'a str> {
    request.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
}

fn vanilla() -> HttpRequest {
    HttpRequest::get("https://example.amazonaws.com/").header("Host", "example.amazonaws.com").unwrap()
}

/// The suites' `get-vanilla`, header and query variants.
#[test]
fn get_vanilla() {
    let creds = credentials(None);
    let p = params(&creds, "service");
    let signed = sign(&vanilla(), &p).unwrap();
    assert_eq!(
        signed.canonical_request,
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        signed.string_to_sign,
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
         bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
    );
    assert_eq!(signed.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    assert_eq!(
        signed.request.headers,
        [
            ("Host".to_owned(), "example.amazonaws.com".to_owned()),
            ("X-Amz-Date".to_owned(), "20150830T123600Z".to_owned()),
            (
                "Authorization".to_owned(),
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
                    .to_owned()
            ),
        ]
    );
    assert_eq!(signed.request.url, "https://example.amazonaws.com/");

    let presigned = presign(&vanilla(), &p, 3600).unwrap();
    assert_eq!(presigned.signature, "e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d");
    assert_eq!(
        presigned.request.url,
        "https://example.amazonaws.com/?X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request\
         &X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host\
         &X-Amz-Signature=e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d"
    );
    assert_eq!(presigned.request.headers, vanilla().headers);
}

/// Without a Host header, `host` comes from the URL and no header is added.
#[test]
fn host_from_url_is_signed_but_not_added() {
    let creds = credentials(None);
    let p = params(&creds, "service");
    for url in ["https://example.amazonaws.com/", "https://EXAMPLE.amazonaws.com:443/", "https://example.amazonaws.com"]
    {
        let signed = sign(&HttpRequest::get(url), &p).unwrap();
        assert_eq!(signed.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", "{url}");
        assert!(header(&signed.request, "host").is_empty());
    }
    let signed = sign(&HttpRequest::get("https://example.amazonaws.com:8443/"), &p).unwrap();
    assert!(signed.canonical_request.contains("\nhost:example.amazonaws.com:8443\n"));
}

/// The IAM ListUsers example of the AWS documentation ("Create a canonical
/// request" / "Calculate the signature").
#[test]
fn iam_list_users() {
    let creds = credentials(None);
    let request = HttpRequest::get("https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08")
        .header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
        .unwrap();
    let signed = sign(&request, &params(&creds, "iam")).unwrap();
    assert_eq!(
        signed.canonical_request,
        "GET\n/\nAction=ListUsers&Version=2010-05-08\n\
         content-type:application/x-www-form-urlencoded; charset=utf-8\nhost:iam.amazonaws.com\n\
         x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert!(signed.string_to_sign.ends_with("\nf536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"));
    assert_eq!(signed.signature, "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

/// aws-c-auth's `get-vanilla-with-session-token`: the token is signed.
#[test]
fn session_token_is_signed() {
    let token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
    let creds = credentials(Some(token));
    let p = params(&creds, "service");
    let signed = sign(&vanilla(), &p).unwrap();
    assert!(signed.canonical_request.contains(&format!("\nx-amz-security-token:{token}\n")));
    assert!(signed.canonical_request.contains("\nhost;x-amz-date;x-amz-security-token\n"));
    assert_eq!(signed.signature, "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8");
    assert_eq!(header(&signed.request, "x-amz-security-token"), [token]);

    let presigned = presign(&vanilla(), &p, 3600).unwrap();
    assert_eq!(presigned.signature, "7ff2b50b376cb4d151970630573d6291dc128cc5c2a12ffb237f73cc53f67b6c");
    assert!(
        presigned
            .request
            .url
            .contains(&format!("&X-Amz-SignedHeaders=host&X-Amz-Security-Token={token}&X-Amz-Signature="))
    );
}

/// An empty session token is no session token (botocore).
#[test]
fn empty_session_token_is_none() {
    let creds = credentials(Some(""));
    let signed = sign(&vanilla(), &params(&creds, "service")).unwrap();
    assert_eq!(signed.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    assert!(header(&signed.request, "x-amz-security-token").is_empty());
}

/// The suites' `post-sts-header-after`: the token travels but is not signed.
#[test]
fn session_token_added_after_signing() {
    let creds = credentials(Some(STS_TOKEN));
    let p = params(&creds, "service");
    let request = HttpRequest::post("https://example.amazonaws.com/").header("Host", "example.amazonaws.com").unwrap();

    let signed = sign_with(&request, &p, SessionTokenMode::AddedAfterSigning).unwrap();
    assert!(!signed.canonical_request.contains("x-amz-security-token"));
    assert_eq!(signed.signature, "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
    assert_eq!(header(&signed.request, "x-amz-security-token"), [STS_TOKEN]);

    let presigned = presign_with(&request, &p, 3600, SessionTokenMode::AddedAfterSigning).unwrap();
    assert!(!presigned.canonical_request.contains("X-Amz-Security-Token"));
    assert_eq!(presigned.signature, "2ce6e6d2e0cf2f9d1b55fafec88cd20574c31dc2e7631979f71ba2310083e95b");
    assert!(presigned.request.url.contains("&X-Amz-Security-Token=AQoDYXdzEPT%2F%2F"));

    // The same request with the token signed: `post-sts-header-before`.
    assert_eq!(
        sign(&request, &p).unwrap().signature,
        "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
    );
}

/// The suites' `get-header-key-duplicate` and `get-header-value-trim`.
#[test]
fn duplicate_headers_join_in_order_and_values_are_trimmed() {
    let creds = credentials(None);
    let p = params(&creds, "service");
    let request = vanilla()
        .header("My-Header1", "value2")
        .and_then(|r| r.header("My-Header1", "value2"))
        .and_then(|r| r.header("My-Header1", "value1"))
        .unwrap();
    let signed = sign(&request, &p).unwrap();
    assert!(signed.canonical_request.contains("\nmy-header1:value2,value2,value1\n"));
    assert_eq!(signed.signature, "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea");

    let request =
        vanilla().header("My-Header1", " value1").and_then(|r| r.header("My-Header2", " \"a   b   c\"")).unwrap();
    let signed = sign(&request, &p).unwrap();
    assert!(signed.canonical_request.contains("\nmy-header1:value1\nmy-header2:\"a b c\"\n"));
    assert_eq!(signed.signature, "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
}

/// aws-c-auth's `post-x-www-form-urlencoded` with `sign_body`.
#[test]
fn content_sha256_header() {
    let creds = credentials(None);
    let p = SigningParams { sign_body_header: true, ..params(&creds, "service") };
    let mut request = HttpRequest::post("https://example.amazonaws.com/")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .and_then(|r| r.header("Host", "example.amazonaws.com"))
        .and_then(|r| r.header("Content-Length", "13"))
        .unwrap();
    request.body = b"Param1=value1".to_vec();
    let hash = "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e";

    let signed = sign(&request, &p).unwrap();
    assert_eq!(signed.signature, "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b");
    assert_eq!(header(&signed.request, "x-amz-content-sha256"), [hash]);
    assert_eq!(signed.request.body, request.body);

    // Presigned URLs carry no payload hash header; the body is still hashed.
    let presigned = presign(&request, &p, 3600).unwrap();
    assert_eq!(presigned.signature, "89a40deed0f26f9461242825a082d2222717248abc7ab41f552ad84a94ad46e9");
    assert!(presigned.canonical_request.ends_with(hash));
    assert!(header(&presigned.request, "x-amz-content-sha256").is_empty());
}

/// A payload hash the caller set (S3's `UNSIGNED-PAYLOAD`) is the one signed,
/// unless the signer is asked to compute the header.
#[test]
fn given_payload_hash_is_honoured() {
    let creds = credentials(None);
    let request = vanilla().header("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD").unwrap();
    let p = SigningParams { normalize_path: false, ..params(&creds, "s3") };
    let signed = sign(&request, &p).unwrap();
    assert!(signed.canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
    assert_eq!(header(&signed.request, "x-amz-content-sha256"), ["UNSIGNED-PAYLOAD"]);

    let p = SigningParams { sign_body_header: true, ..p };
    let signed = sign(&request, &p).unwrap();
    assert!(signed.canonical_request.ends_with("\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    assert_eq!(
        header(&signed.request, "x-amz-content-sha256"),
        ["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]
    );
}

/// Re-signing replaces the previous signature's headers instead of adding
/// a second copy.
#[test]
fn resigning_replaces_signing_headers() {
    let creds = credentials(Some(STS_TOKEN));
    let p = params(&creds, "service");
    let first = sign(&vanilla(), &p).unwrap();
    let again = sign(&first.request, &SigningParams { now: SUITE_TIME + 60, ..p.clone() }).unwrap();
    for name in ["authorization", "x-amz-date", "x-amz-security-token"] {
        assert_eq!(header(&again.request, name).len(), 1, "{name}");
    }
    assert_eq!(header(&again.request, "x-amz-date"), ["20150830T123700Z"]);
    assert_eq!(again.canonical_request.matches("x-amz-date:").count(), 1);
}

/// Headers SigV4 leaves out, built-in and caller-chosen.
#[test]
fn unsigned_headers() {
    let creds = credentials(None);
    let unsigned = ["x-custom".to_owned()];
    let p = SigningParams { unsigned_headers: &unsigned, ..params(&creds, "service") };
    let request = vanilla()
        .header("User-Agent", "botocore/1.44.8")
        .and_then(|r| r.header("Expect", "100-continue"))
        .and_then(|r| r.header("X-Amzn-Trace-Id", "Root=1"))
        .and_then(|r| r.header("Transfer-Encoding", "chunked"))
        .and_then(|r| r.header("X-Custom", "1"))
        .unwrap();
    let signed = sign(&request, &p).unwrap();
    assert_eq!(signed.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    assert_eq!(header(&signed.request, "user-agent"), ["botocore/1.44.8"]);
    assert_eq!(header(&signed.request, "x-custom"), ["1"]);

    for always in ["host", "X-Amz-Date"] {
        let unsigned = [always.to_owned()];
        let p = SigningParams { unsigned_headers: &unsigned, ..params(&creds, "service") };
        assert!(matches!(sign(&vanilla(), &p), Err(Error::InvalidInput(_))), "{always}");
    }
}

/// `normalize_path: false` (S3) signs the path as it is, encoded once.
#[test]
fn s3_path_is_not_normalized() {
    let creds = credentials(None);
    let p = SigningParams { normalize_path: false, ..params(&creds, "service") };
    let request =
        HttpRequest::get("https://example.amazonaws.com//example//").header("Host", "example.amazonaws.com").unwrap();
    let signed = sign(&request, &p).unwrap();
    assert!(signed.canonical_request.starts_with("GET\n//example//\n\n"));
    // aws-c-auth's get-slashes-unnormalized.
    assert_eq!(signed.signature, "87cca117541a147f6df867677d98a7d80dff226d2bfca9e4ffa899665623c7e5");
}

/// The botocore-signed ECR GetAuthorizationToken of the conformance cases
/// (`aws.ecr-token.request`, `ecr-us-east-1`).
#[test]
fn botocore_ecr_request() {
    let creds = credentials(Some(STS_TOKEN));
    let mut request = HttpRequest::post("https://api.ecr.us-east-1.amazonaws.com/")
        .header("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken")
        .and_then(|r| r.header("Content-Type", "application/x-amz-json-1.1"))
        .and_then(|r| r.header("User-Agent", "aws-cli/1.46.3"))
        .unwrap();
    request.body = b"{}".to_vec();
    let p = SigningParams { now: 1_705_320_000, ..params(&creds, "ecr") };
    let signed = sign(&request, &p).unwrap();
    assert_eq!(
        header(&signed.request, "authorization"),
        ["AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240115/us-east-1/ecr/aws4_request, \
          SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, \
          Signature=0b0a5694c53af2f217dfa626961dbfd7e07fce2145c29c3c85e8848b6f5af6a1"]
    );
    assert_eq!(header(&signed.request, "x-amz-date"), ["20240115T120000Z"]);
    assert_eq!(header(&signed.request, "x-amz-security-token"), [STS_TOKEN]);
    let names: Vec<&str> = signed.request.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["X-Amz-Target", "Content-Type", "User-Agent", "X-Amz-Date", "X-Amz-Security-Token", "Authorization"]
    );
}

/// The URL inside `aws eks get-token`'s token (`aws.eks-token`,
/// `us-east-1-default`), byte for byte.
#[test]
fn botocore_eks_presigned_url() {
    let creds = credentials(Some(STS_TOKEN));
    let request = HttpRequest::get("https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15")
        .header("x-k8s-aws-id", "my-cluster")
        .unwrap();
    let p = SigningParams { now: 1_705_320_000, ..params(&creds, "sts") };
    let presigned = presign(&request, &p, 60).unwrap();
    let token = "AQoDYXdzEPT%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FwEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI%2FqkPpKPi%2FkMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d%2Bxo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz%2BscqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR%2FoLxBA%3D%3D";
    assert_eq!(
        presigned.request.url,
        format!(
            "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15\
             &X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240115%2Fus-east-1%2Fsts%2Faws4_request\
             &X-Amz-Date=20240115T120000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id\
             &X-Amz-Security-Token={token}\
             &X-Amz-Signature=601930ed4e9f12220d5556acf624780f9b0e194e6faeeed0d7934f3281886893"
        )
    );

    let creds = credentials(None);
    let p = SigningParams { now: 1_705_320_000, ..params(&creds, "sts") };
    let presigned = presign(&request, &p, 60).unwrap();
    assert!(presigned.request.url.ends_with(
        "&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id\
         &X-Amz-Signature=1a7358c24cbb9eff49058b61eb496e61eecb2018bc3e0dcb14f7ce0101d9c96d"
    ));
}

#[test]
fn presign_appends_to_any_query() {
    assert_eq!(append_query("https://h/", "a=1"), "https://h/?a=1");
    assert_eq!(append_query("https://h/?", "a=1"), "https://h/?a=1");
    assert_eq!(append_query("https://h/?x=1", "a=1"), "https://h/?x=1&a=1");
    assert_eq!(append_query("https://h/?x=1&", "a=1"), "https://h/?x=1&a=1");
}

#[test]
fn presign_expiry_bounds() {
    let creds = credentials(None);
    let p = params(&creds, "service");
    assert!(presign(&vanilla(), &p, 1).is_ok());
    assert!(presign(&vanilla(), &p, MAX_PRESIGN_EXPIRY).is_ok());
    for bad in [0, MAX_PRESIGN_EXPIRY + 1, u32::MAX] {
        assert!(matches!(presign(&vanilla(), &p, bad), Err(Error::InvalidInput(_))), "{bad}");
    }
}

#[test]
fn presign_refuses_a_presigned_url() {
    let creds = credentials(None);
    let p = params(&creds, "service");
    for url in [
        "https://h.example/?X-Amz-Signature=abc",
        "https://h.example/?a=1&x-amz-credential=abc",
        "https://h.example/?X-Amz-Date",
    ] {
        assert!(matches!(presign(&HttpRequest::get(url), &p, 60), Err(Error::InvalidInput(_))), "{url}");
    }
}

#[test]
fn bad_params_are_invalid_input() {
    let creds = credentials(None);
    let good = params(&creds, "service");
    let empty_akid = AwsCredentials { access_key_id: String::new(), ..credentials(None) };
    let slash_akid = AwsCredentials { access_key_id: "AKID/X".into(), ..credentials(None) };
    let empty_secret = AwsCredentials { secret_access_key: Secret::new(""), ..credentials(None) };
    let bad_token = credentials(Some("tok\r\nX-Evil: 1"));
    let cases: Vec<(&str, SigningParams<'_>)> = vec![
        ("empty access key", SigningParams { credentials: &empty_akid, ..good.clone() }),
        ("slash in access key", SigningParams { credentials: &slash_akid, ..good.clone() }),
        ("empty secret", SigningParams { credentials: &empty_secret, ..good.clone() }),
        ("CR/LF in token", SigningParams { credentials: &bad_token, ..good.clone() }),
        ("empty region", SigningParams { region: "", ..good.clone() }),
        ("control in region", SigningParams { region: "us-east-1\n", ..good.clone() }),
        ("slash in region", SigningParams { region: "us/east", ..good.clone() }),
        ("space in service", SigningParams { service: "s 3", ..good.clone() }),
        ("empty service", SigningParams { service: "", ..good.clone() }),
        ("negative time", SigningParams { now: -1, ..good.clone() }),
        ("time after 9999", SigningParams { now: i64::MAX, ..good.clone() }),
    ];
    for (what, p) in cases {
        assert!(matches!(sign(&vanilla(), &p), Err(Error::InvalidInput(_))), "sign: {what}");
        assert!(matches!(presign(&vanilla(), &p, 60), Err(Error::InvalidInput(_))), "presign: {what}");
    }
}

#[test]
fn bad_requests_are_invalid_input() {
    let creds = credentials(None);
    let p = params(&creds, "service");
    let with_header = |name: &str, value: &str| {
        let mut r = vanilla();
        r.headers.push((name.to_owned(), value.to_owned()));
        r
    };
    let requests = [
        HttpRequest::get("/relative"),
        HttpRequest::get("ftp://example.amazonaws.com/"),
        HttpRequest::get("https://"),
        HttpRequest::get("https://exa mple.com/"),
        HttpRequest::get("https://example.amazonaws.com/\r\nX: y"),
        with_header("Bad Name", "v"),
        with_header("Bad:Name", "v"),
        with_header("", "v"),
        with_header("X-Split", "a\r\nX-Evil: 1"),
        with_header("X-Nul", "a\0b"),
    ];
    for request in requests {
        assert!(matches!(sign(&request, &p), Err(Error::InvalidInput(_))), "sign: {request:?}");
        assert!(matches!(presign(&request, &p, 60), Err(Error::InvalidInput(_))), "presign: {request:?}");
    }
}

#[test]
fn secrets_stay_out_of_errors_and_debug() {
    let secret = "SECRETKEYwJalrXUtnFEMI";
    let token = "SESSIONTOKENAQoDYXdz";
    let creds = AwsCredentials { secret_access_key: Secret::new(secret), ..credentials(Some(token)) };
    let p = params(&creds, "service");
    let signed = sign(&vanilla(), &p).unwrap();
    let presigned = presign(&vanilla(), &p, 60).unwrap();
    for shown in [format!("{p:?}"), format!("{signed:?}"), format!("{presigned:?}")] {
        assert!(!shown.contains(secret) && !shown.contains(token), "{shown}");
        assert!(!shown.contains(&signed.signature) && !shown.contains(&presigned.signature), "{shown}");
    }
    let bad_token = AwsCredentials { secret_access_key: Secret::new(secret), ..credentials(Some("SESSIONTOKEN\n")) };
    let errors = [
        sign(&vanilla(), &SigningParams { credentials: &bad_token, ..p.clone() }).unwrap_err(),
        sign(&vanilla(), &SigningParams { region: "", ..p.clone() }).unwrap_err(),
        presign(&HttpRequest::get(format!("https://h.example/?X-Amz-Security-Token={token}")), &p, 60).unwrap_err(),
        presign(&HttpRequest::get(format!("https://{token}:x@h.example/")), &p, 60).unwrap_err(),
    ];
    for e in errors {
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains("SESSIONTOKEN") && !shown.contains(secret), "{shown}");
    }
}

/// Signing a request given away (the component's path) gives the same
/// signed request as signing a borrowed one, body and URL included.
#[test]
fn sign_owned_matches_sign_with() {
    let creds = credentials(Some("AQoDYXdzEPT//////////wEXAMPLE"));
    let p = params(&creds, "service");
    let mut request = vanilla();
    request.body = b"{\"a\": 1}".to_vec();
    request.headers.push(("X-Extra".into(), "  a   b ".into()));
    for mode in [SessionTokenMode::Signed, SessionTokenMode::AddedAfterSigning] {
        let borrowed = sign_with(&request, &p, mode).unwrap();
        let owned = sign_owned(request.clone(), &p, mode).unwrap();
        assert!(borrowed.request == owned.request, "{mode:?}");
        assert_eq!(borrowed.request.body, request.body);
        assert_eq!(
            (&borrowed.canonical_request, &borrowed.string_to_sign, &borrowed.signature),
            (&owned.canonical_request, &owned.string_to_sign, &owned.signature)
        );
    }
}

/// The scope's dates are the ones `DateTime` writes, for any time.
#[test]
fn scope_dates_match_datetime() {
    for t in [0, 1, 59, 86_399, 951_782_400, 1_440_938_160, 1_705_320_000, 253_402_300_799] {
        let time = DateTime::from_unix(t).unwrap();
        let scope = scope(&time, "r", "s");
        assert_eq!(scope.amz_date, time.amz_date(), "{t}");
        assert_eq!(scope.date_stamp(), time.date_stamp(), "{t}");
    }
}
