//! AWS partitions, as botocore's `partitions.json` defines them: which
//! regions belong to which partition, and the DNS suffixes of its endpoints.
//! Region names are matched by shape, like botocore's `regionRegex`, so a new
//! region of a known partition works without a table update.

/// One AWS partition.
#[derive(Debug, PartialEq, Eq)]
pub struct Partition {
    /// botocore's partition id: `aws`, `aws-cn`, ...
    pub id: &'static str,
    /// The DNS suffix of regional endpoints.
    pub dns_suffix: &'static str,
    /// The DNS suffix of dual-stack endpoints.
    pub dual_stack_dns_suffix: &'static str,
    /// Region name prefixes (before `-<word>-<digits>`).
    region_prefixes: &'static [&'static str],
}

/// The partitions, most specific prefixes first.
pub const PARTITIONS: &[Partition] = &[
    Partition { id: "aws-us-gov", dns_suffix: "amazonaws.com", dual_stack_dns_suffix: "api.aws", region_prefixes: &["us-gov"] },
    Partition { id: "aws-iso", dns_suffix: "c2s.ic.gov", dual_stack_dns_suffix: "api.aws.ic.gov", region_prefixes: &["us-iso"] },
    Partition { id: "aws-iso-b", dns_suffix: "sc2s.sgov.gov", dual_stack_dns_suffix: "api.aws.scloud", region_prefixes: &["us-isob"] },
    Partition { id: "aws-iso-e", dns_suffix: "cloud.adc-e.uk", dual_stack_dns_suffix: "api.cloud-aws.adc-e.uk", region_prefixes: &["eu-isoe"] },
    Partition { id: "aws-iso-f", dns_suffix: "csp.hci.ic.gov", dual_stack_dns_suffix: "api.aws.hci.ic.gov", region_prefixes: &["us-isof"] },
    Partition { id: "aws-eusc", dns_suffix: "amazonaws.eu", dual_stack_dns_suffix: "api.amazonwebservices.eu", region_prefixes: &["eusc-de"] },
    Partition { id: "aws-cn", dns_suffix: "amazonaws.com.cn", dual_stack_dns_suffix: "api.amazonwebservices.com.cn", region_prefixes: &["cn"] },
    Partition {
        id: "aws",
        dns_suffix: "amazonaws.com",
        dual_stack_dns_suffix: "api.aws",
        region_prefixes: &["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx"],
    },
];

/// The partition of a region name, or None when the name has no known shape.
/// A region is `<prefix>-<letters>-<digits>`, e.g. `us-east-1`, `us-isob-east-1`.
pub fn for_region(region: &str) -> Option<&'static Partition> {
    PARTITIONS.iter().find(|p| {
        p.region_prefixes.iter().any(|prefix| {
            region
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(is_word_dash_digits)
        })
    })
}

/// `\w+-\d+`: letters/digits/underscore, a dash, digits.
fn is_word_dash_digits(s: &str) -> bool {
    let Some((word, digits)) = s.rsplit_once('-') else { return false };
    !word.is_empty()
        && word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The partition with this id.
pub fn by_id(id: &str) -> Option<&'static Partition> {
    PARTITIONS.iter().find(|p| p.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_to_partitions() {
        for (region, id) in [
            ("us-east-1", "aws"),
            ("ap-southeast-5", "aws"),
            ("us-gov-west-1", "aws-us-gov"),
            ("cn-northwest-1", "aws-cn"),
            ("us-iso-east-1", "aws-iso"),
            ("us-isob-east-1", "aws-iso-b"),
            ("eu-isoe-west-1", "aws-iso-e"),
            ("us-isof-south-1", "aws-iso-f"),
            ("eusc-de-east-1", "aws-eusc"),
        ] {
            assert_eq!(for_region(region).map(|p| p.id), Some(id), "{region}");
        }
        for bad in ["", "us-east", "us-east-1.evil.com", "zz-east-1", "us--1", "US-EAST-1", "us-east-1a"] {
            assert_eq!(for_region(bad), None, "{bad}");
        }
    }
}
