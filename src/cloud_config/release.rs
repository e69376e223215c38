//! cloud-init releases, as `YY.N` numbers that order correctly.

use std::fmt;

/// A cloud-init release such as 22.4 or 26.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Release {
    pub year: u8,
    pub minor: u8,
}

impl Release {
    /// The releases ctxgen knows, oldest first. The newest is the default target of
    /// checks and the upper end of every build's range.
    pub const KNOWN: &'static [Release] = &[
        Release::new(22, 4),
        Release::new(23, 1),
        Release::new(23, 2),
        Release::new(23, 3),
        Release::new(23, 4),
        Release::new(24, 1),
        Release::new(24, 2),
        Release::new(24, 3),
        Release::new(24, 4),
        Release::new(25, 1),
        Release::new(25, 2),
        Release::new(25, 3),
        Release::new(26, 1),
        Release::new(26, 2),
    ];

    pub const OLDEST: Release = Release::new(22, 4);
    pub const NEWEST: Release = Release::new(26, 2);

    pub const fn new(year: u8, minor: u8) -> Self {
        Release { year, minor }
    }

    /// Parses `"25.1"` (a patch level such as `"25.1.2"` is accepted and ignored).
    /// Only known releases parse.
    pub fn parse(s: &str) -> Option<Release> {
        let mut parts = s.trim().split('.');
        let year = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        if let Some(patch) = parts.next() {
            patch.parse::<u16>().ok()?;
        }
        if parts.next().is_some() {
            return None;
        }
        let r = Release::new(year, minor);
        Release::KNOWN.contains(&r).then_some(r)
    }

    /// The known releases, comma-separated, for hints.
    pub fn known_list() -> String {
        Release::KNOWN
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.year, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders() {
        assert_eq!(Release::parse("22.4"), Some(Release::OLDEST));
        assert_eq!(Release::parse("25.1.2"), Some(Release::new(25, 1)));
        assert_eq!(Release::parse("21.4"), None);
        assert_eq!(Release::parse("25"), None);
        assert!(Release::new(23, 4) < Release::new(24, 1));
        assert!(Release::KNOWN.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(Release::KNOWN.last(), Some(&Release::NEWEST));
    }
}
