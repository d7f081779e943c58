//! Every response parser against mutated, truncated, random, oversized and deeply nested bodies, and every status.

use super::*;

/// Every sample must parse (a sanity check that makes the mutations count).
#[test]
fn parser_samples_parse() {
    let mut p = Probe::new("parser_samples_parse");
    for parser in PARSERS {
        let (status, body) = parser.sample();
        p.expect_ok(parser, &response(status, body), "built-in sample");
        for (status, body) in case_samples(parser) {
            p.parse(parser, &response(status, body), "case");
        }
    }
    p.finish();
}

/// Byte-level and structural mutations of every sample, random bodies,
/// hostile headers.
#[test]
fn parsers_survive_mutated_bodies() {
    const BYTE_MUTATIONS: usize = 2500;
    const JSON_MUTATIONS: usize = 1500;
    const RANDOM_BODIES: usize = 300;
    let mut p = Probe::new("parsers_survive_mutated_bodies");
    for (n, parser) in PARSERS.into_iter().enumerate() {
        let mut rng = Rng::new(0xB0D1 + n as u64);
        let samples = samples(parser);
        let other = PARSERS[(n + 1) % PARSERS.len()].sample().1.into_bytes();
        for _ in 0..BYTE_MUTATIONS {
            let (status, body) = rng.pick(&samples);
            let status =
                if rng.chance(10) { *rng.pick(&[200, 201, 204, 299, 400, 401, 403, 404, 500, 503]) } else { *status };
            let mut r = response(status, mutate_bytes(&mut rng, body, &other));
            if rng.chance(20) {
                r.headers = vec![
                    ("Content-Type".into(), "application/json\r\nX-Injected: 1".into()),
                    ("WWW-Authenticate".into(), "\0".repeat(1000)),
                    ("X".repeat(10_000), MARKER.into()),
                ];
            }
            p.parse(parser, &r, "byte mutation");
        }
        if !parser.is_xml() {
            for _ in 0..JSON_MUTATIONS {
                let (status, body) = rng.pick(&samples);
                if let Some(mutated) = mutate_json(&mut rng, body) {
                    p.parse(parser, &response(*status, mutated), "JSON mutation");
                }
            }
        }
        for _ in 0..RANDOM_BODIES {
            let status = if rng.chance(2) { 200 } else { 100 + rng.below(500) as u16 };
            p.parse(parser, &response(status, random_body(&mut rng, parser.is_xml())), "random body");
        }
    }
    p.finish();
}

/// Every prefix of every sample: a truncated body is an error (or, for the
/// few prefixes that are themselves complete, a success), never a trap.
#[test]
fn parsers_survive_truncation_at_every_byte() {
    let mut p = Probe::new("parsers_survive_truncation_at_every_byte");
    for parser in PARSERS {
        for (status, body) in samples(parser).into_iter().take(3) {
            for cut in 0..body.len() {
                p.parse(parser, &response(status, &body[..cut]), &format!("truncated at byte {cut}"));
            }
        }
    }
    p.finish();
}

/// Every status from 100 to 599, with a valid body and with every error
/// body shape: a non-2xx status is always `http-status` with that status.
#[test]
fn parsers_answer_every_status() {
    let mut p = Probe::new("parsers_answer_every_status");
    for parser in PARSERS {
        let (_, sample) = parser.sample();
        let mut bodies = parser.error_bodies();
        bodies.push(sample);
        for status in 100..=599u16 {
            for body in &bodies {
                p.parse(parser, &response(status, body.as_bytes()), "status sweep");
            }
        }
        // The limits of the wire type.
        for status in [0, 1, 99, 600, 999, 1000, u16::MAX] {
            p.parse(parser, &response(status, parser.sample().1), "status out of HTTP range");
        }
    }
    p.finish();
}

/// Bodies at and over the size limit, and nesting deep enough to exhaust a
/// recursive parser's stack.
#[test]
fn parsers_survive_huge_and_deep_bodies() {
    let mut p = Probe::new("parsers_survive_huge_and_deep_bodies");
    let mut rng = Rng::new(0x1417);
    for parser in PARSERS {
        let (status, sample) = parser.sample();
        // Exactly at the limit (trailing whitespace is valid JSON and XML):
        // accepted. XML has its own, lower limit (its parser's uniqueness
        // checks are quadratic, so the input bound is the work bound).
        let limit = if parser.is_xml() { cloudauth::response::MAX_XML_BODY } else { MAX_BODY };
        let mut at_limit = sample.clone().into_bytes();
        at_limit.resize(limit, b' ');
        p.expect_ok(parser, &response(status, at_limit.clone()), "body of exactly the limit");
        // One byte over: refused, whatever the status.
        at_limit.push(b' ');
        p.expect_error(parser, &response(status, at_limit.clone()), "body of the limit + 1", "malformed-response");
        p.parse(parser, &response(401, at_limit), "error body of the limit + 1");
        p.expect_error(parser, &response(200, rng.bytes(8 << 20)), "8 MiB of random bytes", "malformed-response");
        // A token that fills the body.
        let filler = format!("{MARKER}{}", "A".repeat(MAX_BODY - 400));
        let huge = if parser.is_xml() {
            sample.replace(&format!("{MARKER}sessiontoken"), &filler)
        } else {
            sample.replacen(MARKER, &filler, 1)
        };
        p.parse(parser, &response(status, huge), "a 1 MiB token");

        let deep = |open: &str, n: usize| open.repeat(n).into_bytes();
        let nested: Vec<(&str, Vec<u8>)> = if parser.is_xml() {
            vec![
                ("100k nested elements", deep("<a>", 100_000)),
                (
                    "100k nested elements, closed",
                    format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000)).into_bytes(),
                ),
                (
                    "deep nesting inside Credentials",
                    sample.replace("<AccessKeyId>", &format!("{}<AccessKeyId>", "<x>".repeat(50_000))).into_bytes(),
                ),
                (
                    "deep nesting inside an error",
                    format!("<ErrorResponse><Error>{}</Error></ErrorResponse>", "<Code>".repeat(100_000)).into_bytes(),
                ),
            ]
        } else {
            vec![
                ("100k [", deep("[", 100_000)),
                ("1 MiB of [", deep("[", MAX_BODY)),
                ("100k {\"a\":", deep("{\"a\":", 100_000)),
                ("balanced 10k nesting", format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes()),
                (
                    "deep nesting in the token field",
                    format!("{{\"access_token\": {}", "[".repeat(100_000)).into_bytes(),
                ),
                (
                    "deep nesting in a nested field",
                    format!("{{\"status\": {{\"token\": {}}}}}", "{\"a\": ".repeat(50_000)).into_bytes(),
                ),
            ]
        };
        for (what, body) in nested {
            p.parse(parser, &response(200, body.clone()), what);
            p.parse(parser, &response(400, body), &format!("{what} in an error response"));
        }
        // Many small members, many array elements.
        if !parser.is_xml() {
            let wide = format!("{{{}\"x\": 1}}", (0..50_000).map(|i| format!("\"k{i}\": {i}, ")).collect::<String>());
            p.parse(parser, &response(200, wide.clone()), "50k members");
            p.parse(parser, &response(403, wide), "50k members in an error");
            let errors = format!("{{\"errors\": [{}{{}}]}}", "{\"code\": \"X\"}, ".repeat(50_000));
            p.parse(parser, &response(401, errors), "50k distribution errors");
        }
    }
    p.finish();
}

/// XML bombs and external entities against the STS parser, as a success
/// and as an error body (the error code is read from XML too).
#[test]
fn sts_parser_survives_xml_bombs() {
    let mut p = Probe::new("sts_parser_survives_xml_bombs");
    let credentials = |key: &str| {
        format!(
            "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIA</AccessKeyId><SecretAccessKey>{key}</SecretAccessKey><SessionToken>{MARKER}t</SessionToken><Expiration>2024-01-15T13:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"
        )
    };
    let error = |code: &str| {
        format!("<ErrorResponse><Error><Code>{code}</Code><Message>{code}</Message></Error></ErrorResponse>")
    };
    let laughs = {
        let mut dtd = String::from("<!ENTITY l0 \"lollollollol\">");
        for n in 1..=9 {
            let _ = write!(dtd, "<!ENTITY l{n} \"{}\">", format!("&l{};", n - 1).repeat(10));
        }
        dtd
    };
    let big = "A".repeat(400 * 1024);
    let quadratic_refs = "&big;".repeat(100_000);
    let bombs: Vec<(&str, String)> = vec![
        ("billion laughs", format!("<?xml version=\"1.0\"?><!DOCTYPE r [{laughs}]>{}", credentials("&l9;"))),
        ("billion laughs in an error", format!("<?xml version=\"1.0\"?><!DOCTYPE r [{laughs}]>{}", error("&l9;"))),
        ("quadratic blowup", format!("<!DOCTYPE r [<!ENTITY big \"{big}\">]>{}", credentials(&quadratic_refs))),
        ("quadratic blowup in an error", format!("<!DOCTYPE r [<!ENTITY big \"{big}\">]>{}", error(&quadratic_refs))),
        ("recursive entity", format!("<!DOCTYPE r [<!ENTITY a \"&b;\"><!ENTITY b \"&a;\">]>{}", credentials("&a;"))),
        ("self-referencing entity", format!("<!DOCTYPE r [<!ENTITY a \"x&a;\">]>{}", credentials("&a;"))),
        ("external entity", format!("<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>{}", credentials("&x;"))),
        (
            "external DTD",
            format!("<!DOCTYPE r SYSTEM \"http://169.254.169.254/latest/meta-data/\">{}", credentials("k")),
        ),
        ("parameter entity", format!("<!DOCTYPE r [<!ENTITY % p \"<!ENTITY x 'y'>\"> %p;]>{}", credentials("&x;"))),
        (
            "entity with markup",
            format!("<!DOCTYPE r [<!ENTITY x \"<SessionToken>{MARKER}</SessionToken>\">]>{}", credentials("&x;")),
        ),
        ("entity with CR LF", format!("<!DOCTYPE r [<!ENTITY x \"a&#13;&#10;b\">]>{}", credentials("&x;"))),
        ("deep entity chain", {
            let mut dtd = String::from("<!ENTITY e0 \"x\">");
            for n in 1..200 {
                let _ = write!(dtd, "<!ENTITY e{n} \"&e{};\">", n - 1);
            }
            format!("<!DOCTYPE r [{dtd}]>{}", credentials("&e199;"))
        }),
        (
            "many namespaces inherited by deep nesting",
            format!(
                "<AssumeRoleWithWebIdentityResponse {}>{}",
                (0..500).map(|i| format!("xmlns:n{i}=\"u{i}\" ")).collect::<String>(),
                "<a>".repeat(20_000)
            ),
        ),
        (
            "60k siblings",
            format!(
                "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>{}</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
                "<Credentials/>".repeat(60_000)
            ),
        ),
        ("many comments", credentials(&"<!---->".repeat(100_000))),
        ("many CDATA sections", credentials(&format!("{MARKER}{}", "<![CDATA[x]]>".repeat(70_000)))),
        ("many character references", credentials(&"&#65;".repeat(150_000))),
    ];
    for (what, body) in &bombs {
        for status in [200, 400] {
            let start = Instant::now();
            p.parse(Parser::StsWebIdentity, &response(status, body.as_bytes()), what);
            eprintln!("  {what} ({status}, {} bytes): {:.1} ms", body.len(), start.elapsed().as_secs_f64() * 1e3);
        }
    }
    p.finish();
}

/// Numbers and times out of range in every field that holds one.
#[test]
fn parsers_refuse_numbers_and_times_out_of_range() {
    let mut p = Probe::new("parsers_refuse_numbers_and_times_out_of_range");
    // (value, must fail): a lifetime that is negative, not a number, or
    // beyond any real token's is refused.
    let lifetimes: &[(&str, bool)] = &[
        ("1e309", true),
        ("-1e309", true),
        ("-1", true),
        ("\"-1\"", true),
        ("9223372036854775807", true),
        ("9223372036854775808", true),
        ("-9223372036854775809", true),
        ("18446744073709551616", true),
        ("1.7976931348623157e308", true),
        ("\"1e309\"", true),
        ("\"NaN\"", true),
        ("\"Infinity\"", true),
        ("\"soon\"", true),
        ("\"\"", true),
        ("null", true),
        ("[]", true),
        ("{}", true),
        ("true", true),
        ("99999999999999999999999999", true),
        ("0", false),
        ("4.9e-324", false),
        ("-0.0", false),
        ("3599.999", false),
    ];
    for parser in [Parser::EntraToken, Parser::ImdsToken, Parser::GcpSts, Parser::GcpMetadata, Parser::OciToken] {
        let (status, sample) = parser.sample();
        let field = if parser == Parser::ImdsToken {
            "\"expires_in\": \"86399\""
        } else if parser == Parser::OciToken {
            "\"expires_in\": 300"
        } else {
            "\"expires_in\": 3599"
        };
        assert!(sample.contains(field), "{parser:?} sample lacks {field}");
        for (value, must_fail) in lifetimes {
            let body = sample.replace(field, &format!("\"expires_in\": {value}"));
            let what = format!("expires_in {value}");
            let r = response(status, body);
            // A null lifetime is no lifetime: OCI's default or IMDS's `expires_on` applies.
            let fallback = matches!(parser, Parser::OciToken | Parser::ImdsToken) && *value == "null";
            if *must_fail && !fallback {
                p.expect_error(parser, &r, &what, "malformed-response");
            } else {
                p.parse(parser, &r, &what);
            }
        }
    }
    // Absolute expiries: IMDS expires_on (without expires_in), ECR expiresAt, JWT exp.
    let absolute = [
        "1e309",
        "-1",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775809",
        "1.7976931348623157e308",
        "\"x\"",
        "253402300800",
        "1e15",
        "-1e15",
        "4.9e-324",
        "null",
    ];
    let (status, imds) = Parser::ImdsToken.sample();
    let ecr_private = Parser::EcrPrivate.sample().1;
    let ecr_public = Parser::EcrPublic.sample().1;
    for value in absolute {
        let body = imds.replace("\"expires_in\": \"86399\", ", "").replace("\"1705406399\"", value);
        p.parse(Parser::ImdsToken, &response(status, body), &format!("expires_on {value}"));
        for (parser, sample) in [(Parser::EcrPrivate, &ecr_private), (Parser::EcrPublic, &ecr_public)] {
            let body = sample.replace("1705406400.0", value);
            p.parse(parser, &response(200, body), &format!("expiresAt {value}"));
        }
        let token = jwt(&format!("{{\"exp\": {value}}}"));
        p.parse(
            Parser::AcrExchange,
            &response(200, format!("{{\"refresh_token\": \"{token}\"}}")),
            &format!("exp {value}"),
        );
        p.parse(
            Parser::AcrToken,
            &response(200, format!("{{\"access_token\": \"{token}\", \"expires_in\": {value}}}")),
            &format!("exp and expires_in {value}"),
        );
    }
    // Times: malformed, out of range, oversized.
    let long_fraction = format!("2024-01-15T13:00:00.{}Z", "9".repeat(100_000));
    let huge = "2".repeat(MAX_BODY - 400);
    let times = [
        "9999-12-31T23:59:60Z",
        "9999-12-31T23:59:59-23:59",
        "0000-01-01T00:00:00Z",
        "0000-01-01T00:00:00+23:59",
        "1969-12-31T23:59:59Z",
        "2024-02-30T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "2024-13-01T00:00:00Z",
        "2024-01-15T24:00:00Z",
        "2024-01-15T12:00:00+99:99",
        "2024-01-15T12:00:00.Z",
        "2024-01-15T12:00:00",
        "2024-01-15",
        "２０２４-01-15T12:00:00Z",
        "2024-01-15T12:00:00Z\r\n",
        "+2024-01-15T12:00:00Z",
        "-2024-01-15T12:00:00Z",
        "2024-01-15T12:00:00ZZ",
        "",
        long_fraction.as_str(),
        huge.as_str(),
    ];
    for t in times {
        let what = format!("time {:?}", t.chars().take(40).collect::<String>());
        let json_t = serde_json::to_string(t).unwrap_or_default();
        let (_, k8s) = Parser::KubernetesToken.sample();
        p.parse(Parser::KubernetesToken, &response(201, k8s.replace("\"2024-01-15T13:00:00Z\"", &json_t)), &what);
        let (_, iam) = Parser::GcpImpersonation.sample();
        p.parse(Parser::GcpImpersonation, &response(200, iam.replace("\"2024-01-15T13:00:00Z\"", &json_t)), &what);
        let (_, oci) = Parser::OciToken.sample();
        p.parse(Parser::OciToken, &response(200, oci.replace("\"2024-01-15T12:00:00Z\"", &json_t)), &what);
        let (_, sts) = Parser::StsWebIdentity.sample();
        p.parse(Parser::StsWebIdentity, &response(200, sts.replace("2024-01-15T13:00:00Z", t)), &what);
    }
    p.finish();
}

/// CR, LF, NUL and other controls inside parsed values, however they are
/// spelled (JSON escapes, XML character references, raw bytes), and invalid
/// UTF-8: never a value that could split a header.
#[test]
fn parsers_refuse_control_characters_and_invalid_utf8() {
    let mut p = Probe::new("parsers_refuse_control_characters_and_invalid_utf8");
    let json_spellings = ["\\r\\nX-Injected: 1", "\\n", "\\r", "\\u0000", "\\u0085", "\\u001b[31m", "\\t", "\\u007f"];
    let raw_spellings: [&[u8]; 8] =
        [b"\r\n", b"\0", b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80", b"\xe2\x82"];
    for parser in PARSERS {
        let (status, sample) = parser.sample();
        if parser.is_xml() {
            for spelled in [
                "&#13;&#10;X-Injected: 1",
                "&#10;",
                "&#x0D;",
                "&#9;",
                "&#x85;",
                "&#x1b;",
                "<![CDATA[a\r\nb]]>",
                "\r\nX: y",
            ] {
                for field in [format!("{MARKER}secretkey"), format!("{MARKER}sessiontoken"), "ASIAEXAMPLE".to_owned()] {
                    let body = sample.replace(&field, &format!("{field}{spelled}x"));
                    p.expect_error(
                        parser,
                        &response(status, body),
                        &format!("{spelled:?} inside {field}"),
                        "malformed-response",
                    );
                }
            }
        } else if matches!(parser, Parser::EcrPrivate | Parser::EcrPublic) {
            for pair in ["AWS:pass\r\nX: y", "AWS\n:pass", "AWS:pa\0ss", "AWS:\u{85}", "AWS:pass\t"] {
                let body = sample.replace(&STANDARD.encode(format!("AWS:{MARKER}ecrpassword")), &STANDARD.encode(pair));
                p.expect_error(parser, &response(status, body), &format!("ECR pair {pair:?}"), "malformed-response");
            }
        } else {
            for spelled in json_spellings {
                let body = sample.replacen(MARKER, &format!("{MARKER}{spelled}"), 1);
                p.expect_error(
                    parser,
                    &response(status, body),
                    &format!("{spelled:?} in the token"),
                    "malformed-response",
                );
            }
        }
        for raw in raw_spellings {
            // Inside a secret value (mid-marker, so XML's trimming of
            // surrounding whitespace does not apply), or inside ECR's base64.
            let ecr_value = "\"authorizationToken\": \"";
            let marker_at = match (sample.find(MARKER), sample.find(ecr_value)) {
                (Some(i), _) => i + MARKER.len() / 2,
                (None, Some(i)) => i + ecr_value.len() + 4,
                (None, None) => unreachable!("every sample has a secret"),
            };
            let mut body = sample.clone().into_bytes();
            body.splice(marker_at..marker_at, raw.iter().copied());
            p.expect_error(
                parser,
                &response(status, body),
                &format!("raw {raw:?} inside a secret"),
                "malformed-response",
            );
        }
        // A body that is not UTF-8 at all, and one in UTF-16.
        p.parse(parser, &response(status, sample.bytes().map(|b| b | 0x80).collect::<Vec<u8>>()), "high bit set");
        let utf16: Vec<u8> = sample.encode_utf16().flat_map(u16::to_le_bytes).collect();
        p.parse(parser, &response(status, [&[0xFF, 0xFE][..], &utf16].concat()), "UTF-16");
        let bom: Vec<u8> = [&b"\xEF\xBB\xBF"[..], sample.as_bytes()].concat();
        p.parse(parser, &response(status, bom), "UTF-8 byte order mark");
    }
    p.finish();
}
